public import NIOCore
public import NIOWebSocket

/// Reads WebSocket frames (RFC 6455 §5.2) from a socket's bytes, unmasking each payload as it copies it into a
/// buffer of exactly the payload's size: one pass over the bytes per frame.
///
/// It replaces `ByteToMessageHandler(WebSocketFrameDecoder(...))`, which first glues the reads of a frame
/// together (a copy, and more as its buffer grows) and leaves the unmasking to a second copy. Frames leave this
/// handler unmasked (`maskKey` is `nil`), so `unmaskedData` costs nothing downstream. Frames that arrive whole
/// and unmasked are slices of the read, without a copy.
///
/// Like NIO's decoder it refuses, with a `NIOWebSocketError` fired down the pipeline (for
/// `WebSocketProtocolErrorHandler`), frames longer than `maxFrameSize`, fragmented control frames and control
/// frames over 125 bytes; after an error it ignores the rest of the connection's bytes.
public final class WebSocketFrameReader: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = WebSocketFrame

    private struct Header {
        var firstByte: UInt8
        var length: Int
        var key: WebSocketMaskingKey?

        var frameFlags: (fin: Bool, rsv1: Bool, rsv2: Bool, rsv3: Bool, opcode: WebSocketOpcode) {
            (
                firstByte & 0x80 != 0, firstByte & 0x40 != 0, firstByte & 0x20 != 0, firstByte & 0x10 != 0,
                WebSocketOpcode(encodedWebSocketOpcode: firstByte & 0x0F)!
            )
        }
    }

    private enum State {
        /// Between frames; `pending` holds the start of a header split across reads (at most 13 bytes).
        case header(pending: ByteBuffer?)
        /// Copying a payload into `payload` (its readable bytes so far, of `header.length`).
        case payload(Header, payload: ByteBuffer)
        /// A protocol error was reported; the rest is ignored.
        case failed
    }

    private let maxFrameSize: Int
    private var state = State.header(pending: nil)

    /// - Parameter maxFrameSize: the longest payload accepted (at most `UInt32.max`, as NIO's decoder).
    public init(maxFrameSize: Int) {
        precondition(maxFrameSize <= UInt32.max, "maxFrameSize over UInt32.max")
        self.maxFrameSize = maxFrameSize
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = Self.unwrapInboundIn(data)
        do {
            try read(&input, context: context)
        } catch {
            state = .failed
            context.fireErrorCaught(error)
        }
    }

    private func read(_ input: inout ByteBuffer, context: ChannelHandlerContext) throws {
        while true {
            switch state {
            case .failed:
                return
            case .header(pending: nil):
                guard let header = try Self.parseHeader(&input, maxFrameSize: maxFrameSize) else {
                    // Keep a split header's few bytes, not the read they came in.
                    if input.readableBytes > 0 { state = .header(pending: ByteBuffer(bytes: input.readableBytesView)) }
                    return
                }
                begin(header, input: &input, context: context)
            case .header(pending: var pending?):
                // A header needs at most 14 bytes: take what is missing from this read and try again.
                let alreadyPending = pending.readableBytes
                var head = input.getSlice(at: input.readerIndex, length: min(14 - alreadyPending, input.readableBytes))!
                pending.writeBuffer(&head)
                var probe = pending
                guard let header = try Self.parseHeader(&probe, maxFrameSize: maxFrameSize) else {
                    input.moveReaderIndex(to: input.writerIndex)
                    state = .header(pending: pending)
                    return
                }
                input.moveReaderIndex(forwardBy: pending.readableBytes - probe.readableBytes - alreadyPending)
                begin(header, input: &input, context: context)
            case .payload(let header, var payload):
                state = .failed  // not a failure: drops the state's reference so `payload` is unique while it grows
                let count = min(header.length - payload.readableBytes, input.readableBytes)
                if let key = header.key {
                    let offset = payload.readableBytes
                    input.withUnsafeReadableBytes { bytes in
                        _ = WebSocketMasking.append(
                            UnsafeRawBufferPointer(rebasing: bytes.prefix(count)), maskedWith: key, payloadOffset: offset,
                            to: &payload)
                    }
                    input.moveReaderIndex(forwardBy: count)
                } else {
                    var part = input.readSlice(length: count)!
                    payload.writeBuffer(&part)
                }
                guard payload.readableBytes == header.length else {
                    state = .payload(header, payload: payload)
                    return
                }
                state = .header(pending: nil)
                emit(header, payload: payload, context: context)
            }
        }
    }

    /// Starts the payload of a frame whose header was just read.
    private func begin(_ header: Header, input: inout ByteBuffer, context: ChannelHandlerContext) {
        if header.key == nil, input.readableBytes >= header.length {
            // Whole and unmasked: a slice of the read.
            state = .header(pending: nil)
            emit(header, payload: input.readSlice(length: header.length)!, context: context)
        } else {
            state = .payload(header, payload: context.channel.allocator.buffer(capacity: header.length))
        }
    }

    private func emit(_ header: Header, payload: ByteBuffer, context: ChannelHandlerContext) {
        let flags = header.frameFlags
        let frame = WebSocketFrame(
            fin: flags.fin, rsv1: flags.rsv1, rsv2: flags.rsv2, rsv3: flags.rsv3, opcode: flags.opcode, maskKey: nil,
            data: payload)
        context.fireChannelRead(Self.wrapInboundOut(frame))
    }

    /// Reads a frame header from `buffer`, or returns `nil` (reading nothing) when it is not all there yet.
    private static func parseHeader(_ buffer: inout ByteBuffer, maxFrameSize: Int) throws(NIOWebSocketError) -> Header? {
        guard buffer.readableBytes >= 2, let firstByte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let lengthByte = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self)
        else { return nil }
        let masked = lengthByte & 0x80 != 0
        let shortLength = Int(lengthByte & 0x7F)
        let lengthBytes = shortLength == 126 ? 2 : shortLength == 127 ? 8 : 0
        guard buffer.readableBytes >= 2 + lengthBytes else { return nil }
        var cursor = buffer.readerIndex + 2
        let length: UInt64
        switch lengthBytes {
        case 2: length = UInt64(buffer.getInteger(at: cursor, as: UInt16.self)!)
        case 8: length = buffer.getInteger(at: cursor, as: UInt64.self)!
        default: length = UInt64(shortLength)
        }
        cursor += lengthBytes
        guard length <= UInt64(maxFrameSize) else { throw .invalidFrameLength }
        let isControl = firstByte & 0x08 != 0
        if isControl, firstByte & 0x80 == 0 { throw .fragmentedControlFrame }
        if isControl, length > 125 { throw .multiByteControlFrameLength }
        let headerSize = 2 + lengthBytes + (masked ? 4 : 0)
        guard buffer.readableBytes >= headerSize else { return nil }
        var key: WebSocketMaskingKey?
        if masked {
            key = buffer.getBytes(at: cursor, length: 4).flatMap { WebSocketMaskingKey($0) }
        }
        buffer.moveReaderIndex(forwardBy: headerSize)
        return Header(firstByte: firstByte, length: Int(length), key: key)
    }
}

@available(*, unavailable)
extension WebSocketFrameReader: Sendable {}
