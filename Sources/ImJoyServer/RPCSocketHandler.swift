import ImJoyEngine
import ImJoyRPC
import MessagePack
import Logging
import NIOCore
import NIOExecutors
import NIOWebSocket
import WebSocketMasking

/// Serves one RPC WebSocket on its event loop: the handshake (PROTOCOL.md §1.2), then every message handed to
/// the engine synchronously, control frames, liveness pings and cleanup when the socket closes.
final class RPCSocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    /// A message received while the handshake was still running.
    private enum Early {
        case binary(ByteBuffer)
        case text(String)
    }

    private enum State {
        /// Waiting for the JSON auth frame.
        case awaitingAuth
        /// The engine is checking the auth frame; messages that arrive meanwhile wait in `early`.
        case authenticating(early: [Early])
        case open(ClientConnection)
        case closed
    }

    private let engine: Engine
    private let configuration: ServerConfiguration
    private let logger: Logger
    private var state = State.awaitingAuth
    private var sink: NIOConnectionSink?
    private var authTimer: Scheduled<Void>?
    private var pinger: RepeatedTask?
    private var awaitingPong = false

    init(engine: Engine, configuration: ServerConfiguration, logger: Logger) {
        self.engine = engine
        self.configuration = configuration
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let sink = NIOConnectionSink(
            channel: context.channel, fragmentThreshold: configuration.fragmentThreshold,
            maxQueuedBytes: configuration.maxQueuedBytesPerConnection)
        self.sink = sink
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        authTimer = context.eventLoop.scheduleTask(in: .init(configuration.authenticationTimeout)) {
            guard case .awaitingAuth = loopBoundSelf.value.state else { return }
            loopBoundSelf.value.refuse(HandshakeError("Authentication payload timeout", closeCode: 1008))
        }
        let interval = TimeAmount(configuration.pingInterval)
        pinger = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            loopBoundSelf.value.ping()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        authTimer?.cancel()
        pinger?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        authTimer?.cancel()
        pinger?.cancel()
        if case .open(let connection) = state {
            let engine = engine
            Task { await engine.disconnected(connection) }
        }
        state = .closed
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary: receiveBinary(frame.unmaskedPayload(allocator: context.channel.allocator))
        case .text: receiveText(String(buffer: frame.unmaskedData), context: context)
        case .ping: sink?.sendControl(.pong, data: frame.unmaskedData)
        case .pong: awaitingPong = false
        case .connectionClose: closeReceived(frame)
        default: break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The server allows half-closed sockets (for HTTP); a WebSocket whose peer stopped sending is over.
        if case ChannelEvent.inputClosed = event {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("WebSocket error", metadata: ["error": "\(error)"])
        switch error {
        case NIOWebSocketFrameAggregator.Error.accumulatedFrameSizeIsTooLarge:
            sink?.writeClose(code: 1009, reason: "Message larger than \(configuration.maxMessageSize) bytes")
        default:
            sink?.writeClose(code: 1002, reason: "WebSocket protocol error")
        }
    }

    // MARK: - Messages

    private func receiveBinary(_ buffer: ByteBuffer) {
        switch state {
        case .open(let connection):
            engine.receive(binary: buffer, from: connection)
        case .authenticating(let early):
            hold(.binary(buffer), early)
        case .awaitingAuth:
            refuse(
                HandshakeError(
                    "Failed to decode authentication information: the first message must be a JSON text frame",
                    closeCode: 1003))
        case .closed:
            break
        }
    }

    private func receiveText(_ text: String, context: ChannelHandlerContext?) {
        switch state {
        case .awaitingAuth:
            guard let context else { return }
            authTimer?.cancel()
            state = .authenticating(early: [])
            authenticate(text, context: context)
        case .open(let connection):
            if text.utf8.count < 64, text.contains("\"ping\"") {
                sink?.send(.text(#"{"type": "pong"}"#))
            } else {
                let engine = engine
                Task { await engine.receive(text: text, from: connection) }
            }
        case .authenticating(let early):
            hold(.text(text), early)
        case .closed:
            break
        }
    }

    /// Keeps a message that arrived before the handshake finished (a client may send as soon as it has
    /// `connection_info`, which is queued just before the engine hands the connection back).
    private func hold(_ message: Early, _ early: [Early]) {
        guard early.count < 256 else {
            return refuse(HandshakeError("Too many messages before the handshake finished", closeCode: 1008))
        }
        state = .authenticating(early: early + [message])
    }

    private func authenticate(_ text: String, context: ChannelHandlerContext) {
        guard let sink else { return }
        let engine = engine
        let promise = context.eventLoop.makePromise(of: ClientConnection.self)
        let remoteHost = context.channel.remoteAddress?.ipAddress
        Task(executorPreference: EventLoopTaskExecutor(eventLoop: context.eventLoop)) {
            do {
                promise.succeed(try await engine.connect(authFrame: text, sink: sink, remoteHost: remoteHost).connection)
            } catch {
                promise.fail(error)
            }
        }
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { result in
            let handler = loopBoundSelf.value
            switch result {
            case .success(let connection):
                guard case .authenticating(let early) = handler.state else {
                    Task { await engine.disconnected(connection) }
                    return
                }
                handler.state = .open(connection)
                for message in early {
                    switch message {
                    case .binary(let buffer): engine.receive(binary: buffer, from: connection)
                    case .text(let text): handler.receiveText(text, context: nil)
                    }
                }
            case .failure(let error as HandshakeError):
                handler.refuse(error)
            case .failure(let error):
                handler.refuse(HandshakeError("Failed to establish connection: \(error)", closeCode: 1011))
            }
        }
    }

    private func refuse(_ error: HandshakeError) {
        state = .closed
        sink?.send(.text(JSONText.encode(["type": "error", "message": .string(error.message)])))
        sink?.close(code: error.closeCode, reason: error.message)
    }

    private func closeReceived(_ frame: WebSocketFrame) {
        var data = frame.unmaskedData
        let code = data.readInteger(as: UInt16.self) ?? 1000
        sink?.writeClose(code: code == 1005 || code == 1006 ? 1000 : code, reason: "")
    }

    /// Closes the socket because the server is stopping (clients reconnect to the next server).
    func shutdown() {
        sink?.writeClose(code: 1001, reason: "Server shutting down")
    }

    /// Sends a WebSocket ping; a peer that did not answer the previous one is closed.
    private func ping() {
        if awaitingPong {
            logger.debug("Closing a connection that stopped answering pings")
            sink?.writeClose(code: 1001, reason: "Ping timeout")
            return
        }
        awaitingPong = true
        sink?.sendControl(.ping, data: ByteBuffer(string: "imjoy"))
    }
}

