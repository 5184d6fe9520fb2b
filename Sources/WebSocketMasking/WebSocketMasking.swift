public import NIOCore
public import NIOWebSocket

/// WebSocket masking (RFC 6455 §5.3) eight bytes at a time. NIO's `webSocketMask` and `unmaskedData` work a byte at
/// a time, which made masking the largest single cost of moving big messages (a 128 KiB array: about 0.2 ms).
public enum WebSocketMasking {
    /// Appends `source` to `output`, XORed with `key` as if it started at `offset` bytes into the payload.
    /// - Returns: the payload offset after `source` (for masking a payload given in pieces).
    @discardableResult
    public static func append(
        _ source: UnsafeRawBufferPointer, maskedWith key: WebSocketMaskingKey, payloadOffset offset: Int = 0,
        to output: inout ByteBuffer
    ) -> Int {
        let count = source.count
        guard count > 0 else { return offset }
        // The key rotated to the payload offset and repeated to eight bytes, in memory order (no array: this runs
        // per frame). Loading it from a [UInt8] literal with `loadUnaligned` was miscompiled at -O by Swift 6.3:
        // only the first byte survived.
        let word32 = UInt64(key[offset % 4]) | UInt64(key[(offset + 1) % 4]) << 8
            | UInt64(key[(offset + 2) % 4]) << 16 | UInt64(key[(offset + 3) % 4]) << 24
        let key64 = UInt64(littleEndian: word32 | word32 << 32)
        output.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { destination in
            var i = 0
            while i + 8 <= count {
                let word = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                destination.storeBytes(of: word ^ key64, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < count {
                destination[i] = source[i] ^ key[(i + offset) % 4]
                i += 1
            }
            return count
        }
        return offset + count
    }
}

extension WebSocketFrame {
    /// The payload with the peer's mask removed (a new buffer), or the payload itself when it was not masked.
    public func unmaskedPayload(allocator: ByteBufferAllocator) -> ByteBuffer {
        guard let key = maskKey else { return data }
        var output = allocator.buffer(capacity: data.readableBytes)
        _ = data.withUnsafeReadableBytes { WebSocketMasking.append($0, maskedWith: key, to: &output) }
        return output
    }
}
