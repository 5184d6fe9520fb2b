#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system's cryptographic random numbers, fetched 4 KiB at a time.
///
/// On Linux every draw from `SystemRandomNumberGenerator` is a `getrandom` system call; a peer draws for every
/// call it sends (session ids) and a client for every frame (WebSocket masks), so one read of the kernel's
/// generator fills the pool for the next 512 draws instead. The bytes are as unpredictable as the system's; each is used once.
public struct PooledRandomNumberGenerator: RandomNumberGenerator, Sendable {
    private var pool: [UInt8] = []
    private var position = 0
    private static let poolSize = 4096

    public init() {}

    public mutating func next() -> UInt64 {
        if position + 8 > pool.count { refill() }
        let value = pool.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: position, as: UInt64.self) }
        position += 8
        return value
    }

    private mutating func refill() {
        pool = [UInt8](repeating: 0, count: Self.poolSize)
        position = 0
        let filled = pool.withUnsafeMutableBytes(Self.fillFromSystem)
        if !filled {
            // No bulk source (an old kernel, a seccomp filter): draw word by word instead.
            var system = SystemRandomNumberGenerator()
            pool.withUnsafeMutableBytes { raw in
                for offset in stride(from: 0, to: raw.count, by: 8) {
                    raw.storeBytes(of: system.next(), toByteOffset: offset, as: UInt64.self)
                }
            }
        }
    }

    /// Fills `buffer` from the kernel's generator; false when that is not possible here.
    private static func fillFromSystem(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        #if os(Linux)
        // getrandom(2) is not in Swift's Glibc module; /dev/urandom is the same generator.
        let descriptor = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var offset = 0
        while offset < buffer.count {
            let count = read(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            if count > 0 {
                offset += count
            } else if count < 0, errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
        #elseif canImport(Darwin)
        arc4random_buf(buffer.baseAddress!, buffer.count)
        return true
        #else
        return false
        #endif
    }
}
