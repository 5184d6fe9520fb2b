import Foundation
import HummingbirdWSClient
import ImJoyEngine
import ImJoyServer
import ImJoyTesting
import Logging
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import Synchronization
import Testing

/// Text frames a test client received.
actor Received {
    private(set) var texts: [String] = []
    func add(_ text: String) { texts.append(text) }
}

struct LiveServerTests {
    @Test("a client over a real socket gets connection_info, and pong for ping", .timeLimit(.minutes(1)))
    func handshakeOverSocket() async throws {
        try await LiveServer.run { url in
            let received = Received()
            _ = try await WebSocketClient.connect(url: url, logger: Logger(label: "ws-client")) { inbound, outbound, _ in
                try await outbound.write(.text(#"{"client_id": "live", "workspace": null, "token": null, "reconnection_token": null}"#))
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                if case .text(let info)? = try await messages.next() { await received.add(info) }
                try await outbound.write(.text(#"{"type": "ping"}"#))
                if case .text(let pong)? = try await messages.next() { await received.add(pong) }
            }
            let texts = await received.texts
            #expect(texts.count == 2)
            #expect(texts.first?.contains(#""type": "connection_info""#) == true)
            #expect(texts.first?.contains(#""client_id": "live""#) == true)
            #expect(texts.last == #"{"type": "pong"}"#)
        }
    }

    @Test("a refused handshake sends the error text first, then closes with its code", .timeLimit(.minutes(1)))
    func refusedHandshake() async throws {
        try await LiveServer.run { url in
            let received = Received()
            let close = try await WebSocketClient.connect(url: url, logger: Logger(label: "ws-client")) { inbound, outbound, _ in
                try await outbound.write(.text(#"{"client_id": "x", "token": "garbage"}"#))
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { await received.add(text) }
                }
            }
            #expect(await received.texts.first?.contains("Authentication error: the token is malformed") == true)
            #expect(close?.closeCode == .policyViolation)
        }
    }

    @Test("a socket that never authenticates is closed after the timeout", .timeLimit(.minutes(1)))
    func authenticationTimeout() async throws {
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, authenticationTimeout: .milliseconds(300))
        try await LiveServer.run(configuration: configuration) { url in
            let received = Received()
            let close = try await WebSocketClient.connect(url: url, logger: Logger(label: "ws-client")) { inbound, _, _ in
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    if case .text(let text) = message { await received.add(text) }
                }
            }
            #expect(await received.texts == [#"{"type": "error", "message": "Authentication payload timeout"}"#])
            #expect(close?.closeCode == .policyViolation)
        }
    }

    @Test("a message over the size limit closes that connection with 1009", .timeLimit(.minutes(1)))
    func oversizedMessage() async throws {
        let configuration = ServerConfiguration(host: "127.0.0.1", port: 0, maxMessageSize: 64 << 10)
        try await LiveServer.run(configuration: configuration) { url in
            let close = try await WebSocketClient.connect(url: url, logger: Logger(label: "ws-client")) { inbound, outbound, _ in
                try await outbound.write(.text(#"{"client_id": "big"}"#))
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                _ = try await messages.next()
                try await outbound.write(.binary(.init(repeating: 0x90, count: 100 << 10)))
                while try await messages.next() != nil {}
            }
            #expect(close?.closeCode == .messageTooLarge)
        }
    }
}
