#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HummingbirdWSClient
import ImJoyRPC
import Logging
import MessagePack
import NIOCore

/// The socket of an ``ImJoyClient``: handshake, then frames in and out of its ``RPCPeer``.
struct ClientConnection: Sendable {
    let url: String
    let options: ConnectionOptions
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

    /// Sends the peer's frames on the socket.
    struct Transport: RPCTransport {
        let outbound: WebSocketOutboundWriter

        func send(_ frame: Data) async throws {
            try await outbound.write(.binary(ByteBuffer(bytes: frame)))
        }
    }

    /// Connects and serves the socket until it closes or the task is cancelled. `ready` receives the
    /// connected client, or the reason the handshake failed.
    func run(ready: @escaping @Sendable (Result<ImJoyClient, any Error>) -> Void) async throws {
        let options = options
        let logger = logger
        do {
            _ = try await WebSocketClient.connect(
                url: url, configuration: .init(maxFrameSize: options.maxMessageSize, autoPing: .enabled(timePeriod: .seconds(20))),
                logger: logger
            ) { inbound, outbound, _ in
                try await outbound.write(.text(Self.authFrame(options)))
                var messages = inbound.messages(maxSize: options.maxMessageSize).makeAsyncIterator()
                let info: [String: MessagePackValue]
                do {
                    info = try await Self.connectionInfo(from: messages.next())
                } catch {
                    ready(.failure(error))
                    return
                }
                let peer = RPCPeer(
                    configuration: .init(
                        clientID: info["client_id"]?.stringValue ?? options.clientID,
                        workspace: info["workspace"]?.stringValue ?? "",
                        serverBaseURL: info["public_base_url"]?.stringValue ?? "",
                        managerID: info["manager_id"]?.stringValue, methodTimeout: options.methodTimeout),
                    transport: Transport(outbound: outbound), logger: logger)
                ready(.success(ImJoyClient(info: info, peer: peer, outbound: outbound)))
                // Frames go straight to the peer from this loop (one task hop less than a stream to `run`).
                await withDiscardingTaskGroup { group in
                    group.addTask { await peer.serveTimeouts() }
                    do {
                        while let message = try await messages.next() {
                            switch message {
                            case .binary(let buffer):
                                for work in await peer.handle(Data(buffer.readableBytesView)) {
                                    group.addTask { await work() }
                                }
                            case .text(let text):
                                logger.debug("Server message", metadata: ["text": "\(text.prefix(200))"])
                            }
                        }
                    } catch {
                        logger.debug("Connection ended", metadata: ["error": "\(error)"])
                    }
                    await peer.connectionClosed(reason: "Connection was closed")
                    group.cancelAll()
                }
            }
        } catch {
            ready(.failure(ClientError(.closed, "Could not connect to \(url): \(error)")))
            throw error
        }
        ready(.failure(ClientError(.closed, "The connection to \(url) closed")))
    }

    static func authFrame(_ options: ConnectionOptions) -> String {
        JSONText.encode([
            "client_id": .string(options.clientID), "workspace": options.workspace.map { .string($0) } ?? .nil,
            "token": options.token.map { .string($0) } ?? .nil, "reconnection_token": .nil,
        ])
    }

    /// Reads `connection_info`, or turns an `{"type": "error"}` frame into ``ClientError/Code/refused``.
    static func connectionInfo(from message: WebSocketMessage?) throws -> [String: MessagePackValue] {
        guard case .text(let text)? = message, case .map(let map)? = JSONText.value(from: text) else {
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
