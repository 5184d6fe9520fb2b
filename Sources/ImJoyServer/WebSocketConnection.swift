import Foundation
import HummingbirdWebSocket
import ImJoyEngine
import Logging
import NIOCore
import NIOWebSocket
import Synchronization

/// Serves one `/ws` socket: the handshake (PROTOCOL.md §1.2), then every message, handed to the engine.
struct WebSocketConnection {
    let engine: Engine
    let configuration: ServerConfiguration
    let logger: Logger

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let sink = WebSocketSink(maxQueuedBytes: configuration.maxQueuedBytesPerConnection)
        let authenticated = Flag()
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await Self.write(sink, to: outbound, fragmentThreshold: configuration.fragmentThreshold)
                return true
            }
            group.addTask {
                try? await Task.sleep(for: configuration.authenticationTimeout)
                if !authenticated.isSet {
                    Self.refuse(sink, HandshakeError("Authentication payload timeout", closeCode: 1008))
                }
                return false
            }
            await read(inbound, sink: sink, authenticated: authenticated)
            authenticated.set()
            // Let the writer send what is queued (an error and a close frame, say), then stop the timer.
            sink.finish()
            while let isWriter = await group.next(), !isWriter {}
            group.cancelAll()
        }
    }

    private func read(_ inbound: WebSocketInboundStream, sink: WebSocketSink, authenticated: Flag) async {
        var messages = inbound.messages(maxSize: configuration.maxMessageSize).makeAsyncIterator()
        var connection: ClientConnection?
        do {
            guard let first = try await messages.next() else { return }
            authenticated.set()
            guard case .text(let authFrame) = first else {
                Self.refuse(
                    sink,
                    HandshakeError(
                        "Failed to decode authentication information: the first message must be a JSON text frame",
                        closeCode: 1003))
                return
            }
            do {
                connection = try await engine.connect(authFrame: authFrame, sink: sink).connection
            } catch {
                Self.refuse(sink, error)
                return
            }
            guard let connection else { return }
            while let message = try await messages.next() {
                switch message {
                case .binary(let frame): engine.receive(binary: frame, from: connection)
                case .text(let text): await engine.receive(text: text, from: connection)
                }
            }
        } catch {
            logger.debug("WebSocket closed with an error", metadata: ["peer.id": "\(connection?.address ?? "-")", "error": "\(error)"])
        }
        if let connection { await engine.disconnected(connection) }
    }

    private static func refuse(_ sink: WebSocketSink, _ error: HandshakeError) {
        sink.send(.text(#"{"type": "error", "message": \#(jsonString(error.message))}"#))
        sink.close(code: error.closeCode, reason: String(error.message.utf8.prefix(120)) ?? "error")
    }

    private static func jsonString(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [])) ?? Data("[\"\"]".utf8)
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }

    /// Drains the sink into the socket until it ends or the socket fails.
    private static func write(_ sink: WebSocketSink, to outbound: WebSocketOutboundWriter, fragmentThreshold: Int) async {
        do {
            for await command in sink.commands {
                switch command {
                case .frame(.text(let text), let size):
                    try await outbound.write(.text(text))
                    sink.written(size)
                case .frame(.binary(let header, var body), let size):
                    if body.readableBytes > fragmentThreshold {
                        try await outbound.write(.custom(WebSocketFrame(fin: false, opcode: .binary, data: header)))
                        try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .continuation, data: body)))
                    } else if body.readableBytes == 0 {
                        try await outbound.write(.binary(header))
                    } else {
                        var joined = header
                        joined.writeBuffer(&body)
                        try await outbound.write(.binary(joined))
                    }
                    sink.written(size)
                case .close(let code, let reason):
                    try await outbound.close(WebSocketErrorCode(codeNumber: Int(code)), reason: reason)
                    return
                }
            }
        } catch {
            sink.finish()
        }
    }
}

/// A one-way boolean shared between a connection's tasks.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
