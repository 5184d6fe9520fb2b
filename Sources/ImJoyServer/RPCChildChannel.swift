import HTTPTypes
import Hummingbird
public import HummingbirdCore
public import ImJoyEngine
public import Logging
public import NIOCore
import NIOHTTP1
public import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket
import ServiceLifecycle

/// Hummingbird's HTTP/1 channel, except that `…/ws` upgrades to a WebSocket served by ``RPCSocketHandler`` on
/// the channel's event loop: RPC frames are routed without leaving NIO (no task hops per message).
public struct RPCChildChannel: ServerChildChannel, HTTPChannelHandler {
    public enum UpgradeResult: Sendable {
        case websocket(any Channel)
        case notUpgraded(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
    }

    public struct Value: ServerChildChannelValue {
        let upgradeResult: EventLoopFuture<UpgradeResult>
        public let channel: any Channel
    }

    public let responder: HTTPChannelHandler.Responder
    let engine: Engine
    let configuration: ServerConfiguration

    public init(responder: @escaping HTTPChannelHandler.Responder, engine: Engine, configuration: ServerConfiguration) {
        self.responder = responder
        self.engine = engine
        self.configuration = configuration
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let engine = engine
        let configuration = configuration
        return channel.eventLoop.makeCompletedFuture {
            let upgrader = ServerWebSocketUpgrader<UpgradeResult>(
                maxFrameSize: configuration.maxMessageSize,
                shouldUpgrade: { channel, head in
                    let path = head.uri.split(separator: "?", maxSplits: 1).first ?? ""
                    return channel.eventLoop.makeSucceededFuture(path.hasSuffix("/ws") ? HTTPHeaders() : nil)
                },
                upgradePipeline: { channel, _ in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOWebSocketFrameAggregator(
                                minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16,
                                maxAccumulatedFrameSize: configuration.maxMessageSize))
                        try channel.pipeline.syncOperations.addHandler(
                            RPCSocketHandler(engine: engine, configuration: configuration, logger: logger))
                        return UpgradeResult.websocket(channel)
                    }
                })
            let serverUpgrade = NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: configuration.tls != nil))
                        let asyncChannel = try NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>(
                            wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                        return UpgradeResult.notUpgraded(asyncChannel)
                    }
                })
            var pipeline = NIOUpgradableHTTPServerPipelineConfiguration<UpgradeResult>(upgradeConfiguration: serverUpgrade)
            pipeline.enablePipelining = false
            pipeline.enableErrorHandling = false
            pipeline.enableResponseHeaderValidation = false
            let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: pipeline)
            return Value(upgradeResult: result, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.upgradeResult.get() {
            case .notUpgraded(let http):
                await handleHTTP(asyncChannel: http, logger: logger)
            case .websocket(let channel):
                try await withGracefulShutdownHandler {
                    try await channel.closeFuture.get()
                } onGracefulShutdown: {
                    channel.eventLoop.execute {
                        _ = try? channel.pipeline.syncOperations.handler(type: RPCSocketHandler.self).shutdown()
                    }
                }
            }
        } catch {
            logger.debug("Connection ended", metadata: ["error": "\(error)"])
        }
    }
}
