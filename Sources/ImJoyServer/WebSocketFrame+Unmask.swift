import NIOCore
import NIOWebSocket

extension WebSocketFrame {
    /// The payload with the client's mask removed, eight bytes at a time. NIO's `unmaskedData` works a byte at a
    /// time, which made unmasking the largest cost of relaying big messages.
    func unmaskedPayload(allocator: ByteBufferAllocator) -> ByteBuffer {
        guard let key = maskKey else { return data }
        let count = data.readableBytes
        var output = allocator.buffer(capacity: count)
        // The key repeated to eight bytes, in memory order. (Loading it from a [UInt8] literal with
        // `loadUnaligned` was miscompiled at -O by Swift 6.3: only the first byte survived.)
        let word32 = UInt64(key[0]) | UInt64(key[1]) << 8 | UInt64(key[2]) << 16 | UInt64(key[3]) << 24
        let key64 = UInt64(littleEndian: word32 | word32 << 32)
        _ = data.withUnsafeReadableBytes { source in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { destination in
                var i = 0
                while i + 8 <= count {
                    let word = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    destination.storeBytes(of: word ^ key64, toByteOffset: i, as: UInt64.self)
                    i += 8
                }
                while i < count {
                    destination[i] = source[i] ^ key[i % 4]
                    i += 1
                }
                return count
            }
        }
        return output
    }
}
