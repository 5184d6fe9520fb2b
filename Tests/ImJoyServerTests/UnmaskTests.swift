import WebSocketMasking
import NIOCore
import NIOWebSocket
import Testing

struct UnmaskTests {
    @Test("the fast unmask gives the same bytes as NIO's for every length and alignment", arguments: [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 1000, 4099])
    func matchesNIO(length: Int) {
        var rng = SystemRandomNumberGenerator()
        let key = WebSocketMaskingKey([UInt8.random(in: 0...255, using: &rng), 7, 0, 255])!
        for offset in [0, 1, 3] {
            var buffer = ByteBuffer(bytes: (0..<(length + offset)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            buffer.moveReaderIndex(forwardBy: offset)
            let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: key, data: buffer)
            #expect(frame.unmaskedPayload(allocator: ByteBufferAllocator()) == frame.unmaskedData)
        }
        let plain = WebSocketFrame(fin: true, opcode: .binary, data: ByteBuffer(bytes: [1, 2, 3]))
        #expect(plain.unmaskedPayload(allocator: ByteBufferAllocator()) == ByteBuffer(bytes: [1, 2, 3]))
    }
}
