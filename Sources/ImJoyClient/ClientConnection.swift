#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC
import Logging
import MessagePack
import NIOCore
import NIOExecutors
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// The socket of an ``ImJoyClient``, straight on a NIO channel: upgrade, handshake, then frames in and out of its
/// ``RPCPeer``. The receive loop runs on the channel's event loop (``executor``), so a frame reaches the peer and
/// an answer reaches the socket without a hop to the concurrency pool and back.
struct ClientConnection: ClientLink {
    let channel: any Channel
    /// The engine's `connection_info`.
    let info: [String: MessagePackValue]
    /// Binary and text frames after the handshake, in arrival order.
    let inbound: AsyncStream<ClientFrameHandler.Inbound>
    /// Runs tasks on the channel's event loop.
    let eventLoopExecutor: EventLoopTaskExecutor
    var executor: (any TaskExecutor)? { eventLoopExecutor }
    let logger: Logger

    /// `http(s)://host[:port][/prefix]` becomes `ws(s)://host[:port][/prefix]/ws`; ws(s) URLs are used as they are.
    static func socketURL(for url: String) throws(ClientError) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        if url.hasPrefix("ws://") || url.hasPrefix("wss://") { return url }
        if url.hasPrefix("http://") { return "ws://" + url.dropFirst(7) + "/ws" }
        if url.hasPrefix("https://") { return "wss://" + url.dropFirst(8) + "/ws" }
        throw ClientError(.invalidURL, "'\(url)' is not a server URL: use http(s)://host:port or ws(s)://host:port/ws")
    }

    /// Sends the peer's frames on the socket (masked, as a client must).
    struct Transport: RPCTransport {
        let channel: any Channel
        let masks = MaskingKeys()

        func send(_ frame: Data) async throws {
            var buffer = channel.allocator.buffer(capacity: frame.count)
            buffer.writeBytes(frame)
            try await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .binary, maskKey: masks.next(), data: buffer))
                .get()
        }
    }

    /// WebSocket masking keys from the system's generator, drawn from a pool (`WebSocketMaskingKey.random()`
    /// is a system call per frame on Linux).
    final class MaskingKeys: Sendable {
        private let generator = Mutex(PooledRandomNumberGenerator())

        func next() -> WebSocketMaskingKey {
            generator.withLock { WebSocketMaskingKey.random(using: &$0) }
        }
    }

    var transport: any RPCTransport { Transport(channel: channel) }

    private enum Upgrade: Sendable {
        case upgraded(any Channel, EventLoopFuture<String>)
        case declined
    }

    /// Connects, upgrades to WebSocket, authenticates and reads `connection_info`.
    /// - Throws: ``ClientError`` (`.refused` with the engine's reason, `.closed` when the server cannot be reached).
    static func open(url: String, options: ConnectionOptions, logger: Logger) async throws -> ClientConnection {
        let endpoint = try WebSocketEndpoint(url)
        let (inbound, continuation) = AsyncStream<ClientFrameHandler.Inbound>.makeStream()
        let tls: NIOSSLContext?
        do {
            if endpoint.usesTLS {
                var configuration = TLSConfiguration.makeClientConfiguration()
                if let file = options.trustedCertificatesFile {
                    configuration.additionalTrustRoots = [.file(file)]
                }
                tls = try NIOSSLContext(configuration: configuration)
            } else {
                tls = nil
            }
        } catch {
            throw ClientError(.closed, "Could not set up TLS for \(url): \(error)")
        }
        let maxMessageSize = min(options.maxMessageSize, Int(UInt32.max))
        let upgrade: EventLoopFuture<Upgrade>
        do {
            upgrade = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            let isAddress = endpoint.host.contains(":") || endpoint.host.allSatisfy { $0.isNumber || $0 == "." }
                            let handler = try NIOSSLClientHandler(
                                context: tls, serverHostname: isAddress ? nil : endpoint.host)
                            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
                        }
                        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                            configuration: pipeline(
                                endpoint: endpoint, maxMessageSize: maxMessageSize, inbound: continuation, logger: logger))
                    }
                }
        } catch {
            throw ClientError(.closed, "Could not connect to \(url): \(error)")
        }
        let channel: any Channel
        let handshake: EventLoopFuture<String>
        do {
            switch try await upgrade.get() {
            case .upgraded(let upgraded, let answer): (channel, handshake) = (upgraded, answer)
            case .declined: throw ClientError(.refused, "\(url) did not accept a WebSocket connection")
            }
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(.closed, "The WebSocket upgrade with \(url) failed: \(error)")
        }
        var auth = channel.allocator.buffer(capacity: 256)
        auth.writeString(options.authenticationText)
        let info: [String: MessagePackValue]
        do {
            try await channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: auth)).get()
            info = try connectionInfo(from: try await handshake.get())
        } catch {
            try? await channel.close()
            throw error as? ClientError ?? ClientError(.closed, "The handshake with \(url) failed: \(error)")
        }
        return ClientConnection(
            channel: channel, info: info, inbound: inbound, eventLoopExecutor: EventLoopTaskExecutor(eventLoop: channel.eventLoop),
            logger: logger)
    }

    private static func pipeline(
        endpoint: WebSocketEndpoint, maxMessageSize: Int, inbound: AsyncStream<ClientFrameHandler.Inbound>.Continuation,
        logger: Logger
    ) -> NIOUpgradableHTTPClientPipelineConfiguration<Upgrade> {
        let upgrader = ClientWebSocketUpgrader<Upgrade>(maxFrameSize: maxMessageSize) { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                let handshake = channel.eventLoop.makePromise(of: String.self)
                try channel.pipeline.syncOperations.addHandlers(
                    NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: .max, maxAccumulatedFrameSize: maxMessageSize),
                    ClientFrameHandler(inbound: inbound, handshake: handshake, pingInterval: .seconds(20), logger: logger))
                return .upgraded(channel, handshake.futureResult)
            }
        }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: endpoint.hostHeader)
        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.target, headers: headers)
        var configuration = NIOUpgradableHTTPClientPipelineConfiguration(
            upgradeConfiguration: NIOTypedHTTPClientUpgradeConfiguration(
                upgradeRequestHead: request, upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(.declined) }))
        configuration.leftOverBytesStrategy = .forwardBytes
        return configuration
    }

    /// Hands frames to `peer` until the socket closes or the task is cancelled, running service calls
    /// concurrently; then every pending call fails.
    func serve(_ peer: RPCPeer) async {
        let logger = logger
        let binaryFrames = inbound.compactMap { message -> Data? in
            switch message {
            case .binary(let buffer):
                return Data(buffer.readableBytesView)
            case .text(let text):
                logger.debug("Server message", metadata: ["text": "\(text.prefix(200))"])
                return nil
            }
        }
        await serveFrames(binaryFrames, to: peer)
    }

    /// Returns once the socket is closed; cancelling the waiting task closes it.
    func waitUntilClosed() async {
        let channel = channel
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
    }

    /// Starts a normal close and waits (at most two seconds) for the server to answer it; then the socket is closed.
    func close() async {
        await close(timeout: .seconds(2))
    }

    /// Starts a normal close and waits (at most `timeout`) for the server to answer it; then the socket is closed.
    func close(timeout: Duration) async {
        channel.pipeline.fireUserInboundEventTriggered(ClientCloseEvent())
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.inSeconds * 1e9))) {
            [channel] in channel.close(promise: nil)
        }
        try? await channel.closeFuture.get()
        deadline.cancel()
    }


    /// Reads `connection_info`, or turns an `{"type": "error"}` frame into ``ClientError/Code/refused``.
    static func connectionInfo(from text: String) throws -> [String: MessagePackValue] {
        guard case .map(let map)? = JSONText.value(from: text) else {
            throw ClientError(.protocolViolation, "The server did not answer the handshake with a JSON text frame")
        }
        var info: [String: MessagePackValue] = [:]
        for entry in map.entries {
            if case .string(let key) = entry.key { info[key] = entry.value }
        }
        switch info["type"]?.stringValue {
        case "connection_info": return info
        case "error": throw ClientError(.refused, info["message"]?.stringValue ?? "The server refused the connection")
        default: throw ClientError(.protocolViolation, "Unexpected first message from the server: \(text.prefix(200))")
        }
    }
}
