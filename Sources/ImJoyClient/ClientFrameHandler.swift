import Logging
import NIOCore
import NIOWebSocket

/// The last handler of a client socket, after the upgrade: the first text frame answers the handshake, binary
/// frames go to the receive loop, pings are answered, a close is echoed, and a server that stops answering
/// pings is dropped. Runs on the channel's event loop only.
final class ClientFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// What the receive loop gets.
    enum Inbound: Sendable {
        case binary(ByteBuffer)
        case text(String)
    }

    private let inbound: AsyncStream<Inbound>.Continuation
    private var handshake: EventLoopPromise<String>?
    private let pingInterval: TimeAmount
    private var pingTask: RepeatedTask?
    private var awaitingPong = false
    private var closeSent = false
    private let logger: Logger

    init(
        inbound: AsyncStream<Inbound>.Continuation, handshake: EventLoopPromise<String>, pingInterval: TimeAmount,
        logger: Logger
    ) {
        self.inbound = inbound
        self.handshake = handshake
        self.pingInterval = pingInterval
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { _ in
            loopBoundSelf.value.ping(context: loopBoundContext.value)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .binary:
            inbound.yield(.binary(frame.unmaskedData))
        case .text:
            let text = String(buffer: frame.unmaskedData)
            if let handshake {
                self.handshake = nil
                handshake.succeed(text)
            } else {
                inbound.yield(.text(text))
            }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .pong:
            awaitingPong = false
        case .connectionClose:
            if !closeSent {
                closeSent = true
                var data = frame.unmaskedData
                let code = data.readInteger(as: UInt16.self).map { ByteBuffer(integer: $0) } ?? ByteBuffer()
                let echo = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: code)
                let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(Self.wrapOutboundOut(echo)).whenComplete { _ in
                    loopBoundContext.value.close(promise: nil)
                }
            } else {
                context.close(promise: nil)
            }
        default:
            break
        }
    }

    /// Starts a normal close (1000); the server's answering close frame ends the connection.
    func close(context: ChannelHandlerContext) {
        guard !closeSent else { return }
        closeSent = true
        var data = context.channel.allocator.buffer(capacity: 2)
        data.writeInteger(UInt16(1000))
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
    }

    private func ping(context: ChannelHandlerContext) {
        if awaitingPong {
            logger.debug("The server did not answer a ping: closing the connection")
            context.close(promise: nil)
            return
        }
        awaitingPong = true
        let frame = WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: ByteBuffer())
        context.writeAndFlush(Self.wrapOutboundOut(frame), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        pingTask?.cancel()
        handshake?.fail(ClientError(.closed, "The server closed the connection during the handshake"))
        handshake = nil
        inbound.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("Connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

/// Lets code off the event loop start a normal close through the handler.
struct ClientCloseEvent: Sendable {}

extension ClientFrameHandler {
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ClientCloseEvent {
            close(context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
