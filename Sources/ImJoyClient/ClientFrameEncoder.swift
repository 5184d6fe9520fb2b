import NIOCore
import NIOWebSocket
import WebSocketMasking

/// Writes a client's WebSocket frames (RFC 6455 §5.2): the header and the payload, masked eight bytes at a time,
/// in one buffer. It replaces NIO's `WebSocketFrameEncoder`, which masks a byte at a time in place and so also
/// copies a payload whose storage is shared (every payload a client sends): for a 128 KiB array that was most of
/// the client's cost of sending it.
final class ClientFrameEncoder: ChannelOutboundHandler {
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let frame = Self.unwrapOutboundIn(data)
        context.write(Self.wrapOutboundOut(Self.encode(frame, allocator: context.channel.allocator)), promise: promise)
    }

    /// The frame as it goes on the wire.
    static func encode(_ frame: WebSocketFrame, allocator: ByteBufferAllocator) -> ByteBuffer {
        let payloadLength = (frame.extensionData?.readableBytes ?? 0) + frame.data.readableBytes
        var buffer = allocator.buffer(capacity: 14 + payloadLength)
        var first = UInt8(webSocketOpcode: frame.opcode) & 0x0F
        if frame.fin { first |= 0x80 }
        if frame.rsv1 { first |= 0x40 }
        if frame.rsv2 { first |= 0x20 }
        if frame.rsv3 { first |= 0x10 }
        buffer.writeInteger(first)
        let maskBit: UInt8 = frame.maskKey == nil ? 0 : 0x80
        switch payloadLength {
        case ..<126:
            buffer.writeInteger(UInt8(payloadLength) | maskBit)
        case ...Int(UInt16.max):
            buffer.writeInteger(126 | maskBit)
            buffer.writeInteger(UInt16(payloadLength))
        default:
            buffer.writeInteger(127 | maskBit)
            buffer.writeInteger(UInt64(payloadLength))
        }
        guard let key = frame.maskKey else {
            if var extensionData = frame.extensionData { buffer.writeBuffer(&extensionData) }
            var payload = frame.data
            buffer.writeBuffer(&payload)
            return buffer
        }
        buffer.writeBytes(key)
        var offset = 0
        if let extensionData = frame.extensionData {
            offset = extensionData.withUnsafeReadableBytes { WebSocketMasking.append($0, maskedWith: key, to: &buffer) }
        }
        _ = frame.data.withUnsafeReadableBytes {
            WebSocketMasking.append($0, maskedWith: key, payloadOffset: offset, to: &buffer)
        }
        return buffer
    }
}
