#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Start-up leaves much of the binary's and the libraries' code resident (the kernel maps code in 16–64 KiB
/// batches around every page first touched while starting); an idle engine needs little of it. Dropping those
/// clean, read-only code pages once start-up is over gives the memory back; pages that are used again come back
/// from the page cache on first touch, as after any memory pressure. Only executable, never-written (`r-xp`)
/// file mappings are touched: data, relocated and anonymous memory are left alone.
enum WorkingSet {
    /// Drops the resident code pages and returns the heap's free pages to the system (`malloc_trim`).
    static func trim() {
        trimCode()
        trimHeap()
    }

    /// glibc's `malloc_trim(0)`: returns the free pages of every malloc arena to the system. Looked up at run
    /// time (the Glibc module does not export `malloc.h`); a no-op elsewhere.
    static func trimHeap() {
        #if os(Linux)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }

    /// Drops the resident code pages of this process; returns how many KiB of mappings were advised.
    @discardableResult
    static func trimCode() -> Int {
        #if os(Linux)
        guard let maps = readWholeFile("/proc/self/maps") else { return 0 }
        // All ranges first, then only madvise calls: work done after a library was advised would fault part of
        // its code straight back in.
        var ranges: [(address: UnsafeMutableRawPointer, length: Int)] = []
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "r-xp", fields[5].hasPrefix("/") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start,
                let address = UnsafeMutableRawPointer(bitPattern: start)
            else { continue }
            ranges.append((address, Int(end - start)))
        }
        var advised = 0
        for range in ranges where madvise(range.address, range.length, MADV_DONTNEED) == 0 {
            advised += range.length / 1024
        }
        return advised
        #else
        return 0
        #endif
    }

    /// Reads a file to its end with plain `read` calls: /proc files report size 0 and hand out one page per read,
    /// and `String(contentsOfFile:)` stopped after the first 4 KiB of `/proc/self/maps` (only the first few
    /// mappings were trimmed).
    static func readWholeFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
