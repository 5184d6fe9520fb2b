import Foundation
@testable import ImJoyEngine
import ImJoyRPC
import MessagePack
import NIOCore
import Testing

struct RouterTests {
    /// Connects a raw client (no RPC peer) and returns its connection and recorded frames.
    static func raw(_ engine: Engine, _ clientID: String) async throws -> (ClientConnection, RecordingSink) {
        let sink = RecordingSink()
        let (connection, _) = try await engine.connect(authFrame: EngineHarness.authFrame(clientID), sink: sink)
        return (connection, sink)
    }

    /// The frames after `connection_info`.
    static func frames(_ sink: RecordingSink) async -> AsyncStream<OutboundFrame>.Iterator {
        var iterator = sink.frames.makeAsyncIterator()
        _ = await iterator.next()
        return iterator
    }

    static func frame(_ main: MessagePackValue, _ extra: MessagePackValue? = nil) -> ByteBuffer {
        var writer = MessagePackWriter()
        writer.write(main)
        if let extra { writer.write(extra) }
        return ByteBuffer(bytes: writer.bytes)
    }

    @Test("the router stamps from, ws and user, drops ctx, and forwards the body without copying it", .timeLimit(.minutes(1)))
    func rewriteAndZeroCopy() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let (sender, _) = try await Self.raw(harness.engine, "sender")
            let (receiver, inbox) = try await Self.raw(harness.engine, "receiver")
            let body: MessagePackValue = ["args": [.binary(Data(repeating: 7, count: 100_000))]]
            let frame = Self.frame(
                [
                    "type": "method", "to": .string(receiver.address), "from": "ws-x/impostor", "ws": "ws-x",
                    "user": ["id": "root"], "ctx": ["from": "ws-x/impostor"], "method": "services.a.b",
                ], body)
            harness.engine.receive(binary: frame, from: sender)
            var frames = await Self.frames(inbox)
            guard case .binary(let header, let forwardedBody)? = await frames.next() else {
                Issue.record("no binary frame delivered")
                return
            }
            let decoded = try MessagePackDecoder().decode(Data(header.readableBytesView))
            #expect(decoded["from"]?.stringValue == sender.address)
            #expect(decoded["ws"]?.stringValue == sender.workspace)
            #expect(decoded["user"]?["id"]?.stringValue == sender.user.id)
            #expect(decoded["to"]?.stringValue == receiver.address)
            #expect(decoded["ctx"] == nil)
            #expect(decoded["method"]?.stringValue == "services.a.b")
            #expect(Data(forwardedBody.readableBytesView) == MessagePackEncoder.encode(body))
            let original = frame.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            let forwarded = forwardedBody.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
            #expect(forwarded > original && forwarded < original + UInt(frame.readableBytes), "the body was copied")
        }
    }

    static let badFrames: [(String, [UInt8], String)] = [
        ("garbage", [0xc1, 0x00, 0xff, 0x13], "not valid msgpack"),
        ("truncated", [0x83, 0xa4, 0x74, 0x79], "not valid msgpack"),
        ("not a map", [0x93, 0x01, 0x02, 0x03], "must start with a msgpack map"),
        ("no type", MessagePackEncoder.encodeBytes(["to": "x"]), "no string `type`"),
        ("no to", MessagePackEncoder.encodeBytes(["type": "method"]), "no string `to`"),
        ("deep nesting", [UInt8](repeating: 0x91, count: 100_000) + [0xc0], "nested deeper"),
        ("empty", [], "not valid msgpack"),
        // {"type": "method", "to": "x", "type": "client_disconnected"}: receivers would take the last `type`.
        ("type twice", [0x83, 0xa4] + Array("type".utf8) + [0xa6] + Array("method".utf8) + [0xa2] + Array("to".utf8) + [0xa1, 0x78]
            + [0xa4] + Array("type".utf8) + [0xb3] + Array("client_disconnected".utf8), "sets `type` twice"),
    ]

    @Test("a malformed frame gets an error text frame and the connection and others keep working", arguments: badFrames)
    func badInput(name: String, bytes: [UInt8], expected: String) async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let (bad, badInbox) = try await Self.raw(harness.engine, "bad")
            harness.engine.receive(binary: ByteBuffer(bytes: bytes), from: bad)
            var frames = await Self.frames(badInbox)
            let reply = try #require(await frames.next()?.text)
            #expect(reply.contains("\"type\": \"error\""))
            #expect(reply.contains(expected), "\(name): \(reply)")
            await harness.engine.receive(text: #"{"type": "ping"}"#, from: bad)
            #expect(await frames.next()?.text == #"{"type": "pong"}"#)
            let good = try await TestClient.connect(harness.engine, "good")
            #expect(try await good.manager("echo", ["ok"]).stringValue == "ok")
        }
    }

    @Test("a call that cannot be delivered is rejected at once, naming the reason", .timeLimit(.minutes(1)))
    func rejects() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let (sender, inbox) = try await Self.raw(harness.engine, "sender")
            var frames = await Self.frames(inbox)
            let cases: [(MessagePackValue, MessagePackValue?, String)] = [
                (["type": "method", "session": "s1", "method": "x"], nil, "no string `to`"),
                (["type": "method", "to": "ws-nowhere/ghost", "session": "s2"], nil, "Target peer ws-nowhere/ghost is not connected"),
                (["type": "method", "to": .string(sender.address), "session": "s3"], ["from": "ws-x/impostor"], "only the server may set"),
            ]
            for (main, extra, expected) in cases {
                harness.engine.receive(binary: Self.frame(main, extra), from: sender)
                let reply = try #require(await frames.next())
                let segments = try MessagePackDecoder().decodeAll(reply.data)
                let session = main["session"]?.stringValue ?? ""
                #expect(segments[0]["method"]?.stringValue == "\(session).reject")
                #expect(segments[1]["args"]?.arrayValue?.first?["_rvalue"]?.stringValue?.contains(expected) == true)
            }
        }
    }

    @Test("a message over the forwarding limit is refused instead of breaking the receiver", .timeLimit(.minutes(1)))
    func forwardLimit() async throws {
        let harness = try await EngineHarness.make { $0.maxForwardedFrameSize = 10_000 }
        try await harness.run {
            let (sender, inbox) = try await Self.raw(harness.engine, "sender")
            let (receiver, _) = try await Self.raw(harness.engine, "receiver")
            harness.engine.receive(
                binary: Self.frame(
                    ["type": "method", "to": .string(receiver.address), "session": "big"],
                    ["args": [.binary(Data(count: 20_000))]]),
                from: sender)
            var frames = await Self.frames(inbox)
            let reply = try #require(await frames.next())
            #expect(String(decoding: reply.data, as: UTF8.self).contains("larger than the 10000-byte limit"))
        }
    }
}
