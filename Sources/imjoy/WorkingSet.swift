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
        guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return 0 }
        var advised = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "r-xp", fields[5].hasPrefix("/") else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16), end > start,
                let address = UnsafeMutableRawPointer(bitPattern: start)
            else { continue }
            if madvise(address, Int(end - start), MADV_DONTNEED) == 0 { advised += Int(end - start) / 1024 }
        }
        return advised
        #else
        return 0
        #endif
    }
}
