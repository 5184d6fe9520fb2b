import NIOCore
import NIOHTTP1
import NIOWebSocket
import WebSocketMasking

/// The server side of the WebSocket upgrade: NIO's `NIOTypedWebSocketServerUpgrader` checks the request and
/// builds the answer (`Sec-WebSocket-Accept` …), but the frames are read by ``WebSocketFrameReader`` instead of
/// NIO's decoder (one copy per payload, unmasked on the way in).
struct ServerWebSocketUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPServerProtocolUpgrader {
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []

    private let handshake: NIOTypedWebSocketServerUpgrader<UpgradeResult>
    private let maxFrameSize: Int
    private let upgradePipeline: @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<UpgradeResult>

    /// - Parameters:
    ///   - maxFrameSize: the largest frame a client may send.
    ///   - shouldUpgrade: extra headers for the answer, or `nil` to refuse the upgrade.
    ///   - upgradePipeline: adds the handlers that follow the framing, once the upgrade succeeded.
    init(
        maxFrameSize: Int, shouldUpgrade: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?>,
        upgradePipeline: @escaping @Sendable (any Channel, HTTPRequestHead) -> EventLoopFuture<UpgradeResult>
    ) {
        self.handshake = NIOTypedWebSocketServerUpgrader(
            maxFrameSize: maxFrameSize, shouldUpgrade: shouldUpgrade, upgradePipelineHandler: upgradePipeline)
        self.maxFrameSize = maxFrameSize
        self.upgradePipeline = upgradePipeline
    }

    func buildUpgradeResponse(
        channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        handshake.buildUpgradeResponse(
            channel: channel, upgradeRequest: upgradeRequest, initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(channel: any Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
            try channel.pipeline.syncOperations.addHandler(WebSocketFrameReader(maxFrameSize: maxFrameSize))
            try channel.pipeline.syncOperations.addHandler(WebSocketProtocolErrorHandler())
        }.flatMap { upgradePipeline(channel, upgradeRequest) }
    }
}
