import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import Testing
import WebSocketMasking

@testable import ImJoyClient

/// The client's own frame encoder and upgrade: the same bytes as NIO's encoder, frames NIO's decoder reads back.
@Suite struct ClientFramingTests {
    private let key: WebSocketMaskingKey = [0x12, 0xA5, 0x7F, 0x03]

    private func payload(_ count: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        for i in 0..<count { buffer.writeInteger(UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8)) }
        return buffer
    }

    /// What NIO's own encoder writes for `frame` (header and masked payload, however many buffers).
    private func nioBytes(_ frame: WebSocketFrame) throws -> [UInt8] {
        let channel = EmbeddedChannel(handler: WebSocketFrameEncoder())
        try channel.writeOutbound(frame)
        var bytes: [UInt8] = []
        while var part = try channel.readOutbound(as: ByteBuffer.self) { bytes += part.readBytes(length: part.readableBytes)! }
        return bytes
    }

    @Test(arguments: [0, 1, 7, 8, 9, 125, 126, 127, 65_535, 65_536, 200_001])
    func writesWhatNIOWrites(length: Int) throws {
        for frame in [
            WebSocketFrame(fin: true, opcode: .binary, maskKey: key, data: payload(length)),
            WebSocketFrame(fin: false, opcode: .text, maskKey: nil, data: payload(length)),
            WebSocketFrame(fin: true, rsv1: true, opcode: .continuation, maskKey: key, data: payload(length),
                           extensionData: payload(3)),
        ] {
            var encoded = ClientFrameEncoder.encode(frame, allocator: ByteBufferAllocator())
            #expect(encoded.readBytes(length: encoded.readableBytes)! == (try nioBytes(frame)), "length \(length)")
        }
    }

    @Test func nioDecodesItsFramesBackToThePayload() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20)))
        for length in [5, 126, 70_000] {
            let sent = payload(length)
            try channel.writeInbound(ClientFrameEncoder.encode(
                WebSocketFrame(fin: true, opcode: .binary, maskKey: key, data: sent), allocator: ByteBufferAllocator()))
            let frame = try #require(try channel.readInbound(as: WebSocketFrame.self))
            #expect(frame.maskKey == key && frame.unmaskedData == sent)
            #expect(frame.unmaskedPayload(allocator: ByteBufferAllocator()) == sent)
        }
    }

    @Test func maskingInPiecesEqualsMaskingAtOnce() {
        let whole = payload(37)
        var atOnce = ByteBuffer(), inPieces = ByteBuffer()
        _ = whole.withUnsafeReadableBytes { WebSocketMasking.append($0, maskedWith: key, to: &atOnce) }
        var offset = 0
        for (start, end) in [(0, 3), (3, 3), (3, 14), (14, 37)] {
            let piece = whole.getSlice(at: start, length: end - start)!
            offset = piece.withUnsafeReadableBytes {
                WebSocketMasking.append($0, maskedWith: key, payloadOffset: offset, to: &inPieces)
            }
        }
        var expected = whole
        expected.webSocketMask(key)
        #expect(atOnce == expected && inPieces == expected && offset == 37)
    }

    @Test func theUpgradeChecksTheServersAcceptValue() {
        // RFC 6455 §1.3's example.
        #expect(ClientWebSocketUpgrader<Int>.acceptValue(for: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let upgrader = ClientWebSocketUpgrader<Int>(maxFrameSize: 1 << 20) { channel, _ in channel.eventLoop.makeSucceededFuture(1) }
        var headers = HTTPHeaders()
        upgrader.addCustom(upgradeRequestHeaders: &headers)
        let key = headers["Sec-WebSocket-Key"].first ?? ""
        #expect(headers["Sec-WebSocket-Version"] == ["13"] && key.count == 24)
        let accepted = HTTPResponseHead(
            version: .http1_1, status: .switchingProtocols,
            headers: ["Sec-WebSocket-Accept": ClientWebSocketUpgrader<Int>.acceptValue(for: key)])
        let forged = HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: ["Sec-WebSocket-Accept": "x"])
        #expect(upgrader.shouldAllowUpgrade(upgradeResponse: accepted))
        #expect(!upgrader.shouldAllowUpgrade(upgradeResponse: forged))
        #expect(!upgrader.shouldAllowUpgrade(upgradeResponse: HTTPResponseHead(version: .http1_1, status: .switchingProtocols)))
    }
}
