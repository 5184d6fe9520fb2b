import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOHTTP1
import NIOWebSocket
import WebSocketMasking

/// The client side of the WebSocket upgrade (RFC 6455 §4.1), as NIO's `NIOTypedWebSocketClientUpgrader` does it,
/// except that the frames are written by ``ClientFrameEncoder`` (NIO's upgrader always installs its own encoder)
/// and read by `WebSocketFrameReader` (one copy per payload instead of NIO's decoder's reads glued together).
struct ClientWebSocketUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPClientProtocolUpgrader {
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []

    private let requestKey: String
    private let maxFrameSize: Int
    private let upgradePipeline: @Sendable (any Channel, HTTPResponseHead) -> EventLoopFuture<UpgradeResult>

    /// - Parameters:
    ///   - maxFrameSize: the largest frame the server may send.
    ///   - upgradePipeline: adds the handlers that follow the framing, once the upgrade succeeded.
    init(
        maxFrameSize: Int,
        upgradePipeline: @escaping @Sendable (any Channel, HTTPResponseHead) -> EventLoopFuture<UpgradeResult>
    ) {
        self.requestKey = NIOWebSocketClientUpgrader.randomRequestKey()
        self.maxFrameSize = maxFrameSize
        self.upgradePipeline = upgradePipeline
    }

    func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {
        upgradeRequestHeaders.add(name: "Sec-WebSocket-Key", value: requestKey)
        upgradeRequestHeaders.add(name: "Sec-WebSocket-Version", value: "13")
    }

    /// The server must answer with the key's accept value (SHA-1 of the key and the protocol's GUID, base64).
    func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool {
        let accept = upgradeResponse.headers["Sec-WebSocket-Accept"]
        return accept.count == 1 && accept[0] == Self.acceptValue(for: requestKey)
    }

    func upgrade(channel: any Channel, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<UpgradeResult> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ClientFrameEncoder())
            try channel.pipeline.syncOperations.addHandler(WebSocketFrameReader(maxFrameSize: maxFrameSize))
            try channel.pipeline.syncOperations.addHandler(WebSocketProtocolErrorHandler(isServer: false))
        }.flatMap { upgradePipeline(channel, upgradeResponse) }
    }

    static func acceptValue(for key: String) -> String {
        Data(Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
    }
}
