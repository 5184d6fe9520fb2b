import Foundation
@testable import ImJoyEngine
import ImJoyRPC
import MessagePack
import NIOCore
import Testing

/// Attacks found in review: each must fail cleanly, without crashing the engine or touching other clients.
struct HardeningTests {
    static func call(_ method: String, to: String, session: String, args: [MessagePackValue], promise: MessagePackValue = "*")
        -> ByteBuffer
    {
        RouterTests.frame(
            ["type": "method", "to": .string(to), "method": .string(method), "session": .string(session)],
            ["args": .array(args), "promise": promise, "t": 15.0])
    }

    /// The first reply frame for `session` among the next frames of `sink`.
    static func reply(_ frames: inout AsyncStream<OutboundFrame>.Iterator, session: String) async throws -> (String, MessagePackValue?) {
        try await anyReply(&frames, sessions: [session])?.1 ?? ("", nil)
    }

    /// The next reply frame for any of `sessions`, with the session it answers (`nil` when the frames end).
    static func anyReply(
        _ frames: inout AsyncStream<OutboundFrame>.Iterator, sessions: Set<String>
    ) async throws -> (String, (String, MessagePackValue?))? {
        while let frame = await frames.next() {
            guard case .binary = frame else { continue }
            let segments = try MessagePackDecoder().decodeAll(frame.data)
            guard let method = segments[0]["method"]?.stringValue, !method.hasSuffix(".heartbeat"),
                let session = method.split(separator: ".").first.map(String.init), sessions.contains(session)
            else { continue }
            return (session, (method, segments.count > 1 ? segments[1]["args"]?.arrayValue?.first : nil))
        }
        return nil
    }

    @Test("an ndarray whose shape overflows is refused instead of crashing", .timeLimit(.minutes(1)))
    func overflowingShape() async throws {
        #expect(throws: RPCError.self) { try NDArray(dtype: "int32", shape: [1 << 62, 4], data: Data()) }
        let harness = try await EngineHarness.make()
        try await harness.run {
            let (client, sink) = try await RouterTests.raw(harness.engine, "attacker")
            var frames = await RouterTests.frames(sink)
            let array: MessagePackValue = [
                "_rtype": "ndarray", "_rdtype": "int32", "_rshape": [.uint(1 << 62), 4], "_rvalue": .binary(Data()),
            ]
            harness.engine.receive(
                binary: Self.call("services.default.echo", to: harness.engine.configuration.managerAddress, session: "s1", args: [array]),
                from: client)
            let (method, _) = try await Self.reply(&frames, session: "s1")
            #expect(method == "s1.resolve")
        }
    }

    @Test("NaN, infinite and huge timeouts from a client are clamped, not trapped on", .timeLimit(.minutes(1)))
    func hostileTimeouts() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let client = try await TestClient.connect(harness.engine, "victim")
            for timeout in [Double.nan, .infinity, 1e300, -5] {
                _ = try? await client.manager("ping", ["victim", .double(timeout)])
            }
            let (raw, sink) = try await RouterTests.raw(harness.engine, "attacker")
            var frames = await RouterTests.frames(sink)
            harness.engine.receive(
                binary: RouterTests.frame(
                    ["type": "method", "to": .string(harness.engine.configuration.managerAddress),
                     "method": "services.default.echo", "session": "s2"],
                    ["args": ["x"], "promise": "*", "t": 1e300]),
                from: raw)
            #expect(try await Self.reply(&frames, session: "s2").0 == "s2.resolve")
            #expect(try await client.manager("echo", ["alive"]).stringValue == "alive")
        }
    }

    @Test("an explicit promise cannot aim the manager's answer at a third party", .timeLimit(.minutes(1)))
    func promiseRedirect() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let victim = try await TestClient.connect(harness.engine, "victim")
            let calls = EventLog()
            try await victim.register(
                RPCService(
                    id: "secret",
                    members: ["fn": .function(RPCFunction { _ in await calls.add("ran"); return .null })]))
            let (attacker, sink) = try await RouterTests.raw(harness.engine, "attacker")
            var frames = await RouterTests.frames(sink)
            let aimed: MessagePackValue = [
                "_rtype": "method", "_rtarget": .string(victim.address), "_rmethod": "services.secret.fn", "_rpromise": false,
            ]
            harness.engine.receive(
                binary: Self.call(
                    "services.default.echo", to: harness.engine.configuration.managerAddress, session: "s3", args: ["x"],
                    promise: ["resolve": aimed, "reject": aimed, "heartbeat": aimed, "interval": 0.001]),
                from: attacker)
            #expect(try await Self.reply(&frames, session: "s3").0 == "s3.resolve")
            try await Task.sleep(for: .milliseconds(200))
            #expect(await calls.items.isEmpty)
        }
    }

    @Test("clients cannot send server events or broadcast into another workspace", .timeLimit(.minutes(1)))
    func forgedEvents() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let victim = try await TestClient.connect(harness.engine, "victim")
            let heard = EventLog()
            await victim.peer.on(event: "client_disconnected") { _ in await heard.add("disconnected") }
            await victim.peer.on(event: "news") { _ in await heard.add("news") }
            _ = try await victim.manager("subscribe", ["news"])
            let (attacker, sink) = try await RouterTests.raw(harness.engine, "attacker")
            var frames = await RouterTests.frames(sink)
            let forged: [(MessagePackValue, MessagePackValue?, String)] = [
                (["type": "client_disconnected", "to": .string(victim.address), "data": ["id": "x"]], nil, "come from the engine only"),
                (["type": "news", "to": .string("\(victim.workspace)/*"), "data": "hi"], nil, "your own workspace"),
                (["type": "news", "to": .string(victim.address)], ["type": "client_disconnected"], "only the server may set"),
                (["type": "client_disconnected", "to": .string(harness.engine.configuration.managerAddress),
                  "data": ["id": "victim", "workspace": .string(victim.workspace)]], nil, "come from the engine only"),
            ]
            for (main, extra, expected) in forged {
                harness.engine.receive(binary: RouterTests.frame(main, extra), from: attacker)
                let text = try #require(await frames.next()?.text)
                #expect(text.contains(expected), "\(text)")
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(await heard.items.isEmpty)
        }
    }

    @Test("a chunked message may not nest another process call", .timeLimit(.minutes(1)))
    func nestedProcess() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let (attacker, sink) = try await RouterTests.raw(harness.engine, "attacker")
            var frames = await RouterTests.frames(sink)
            let manager = harness.engine.configuration.managerAddress
            let inner = MessagePackEncoder.encode(
                ["type": "method", "to": .string(manager), "method": "services.built-in.message_cache.process", "session": "in"])
            let steps: [(String, [MessagePackValue])] = [
                ("services.built-in.message_cache.create", ["k0", false]),
                ("services.built-in.message_cache.set", ["k0", 0, .binary(inner), false]),
                ("services.built-in.message_cache.process", ["k0", false]),
            ]
            for (i, step) in steps.enumerated() {
                harness.engine.receive(binary: Self.call(step.0, to: manager, session: "c\(i)", args: step.1), from: attacker)
            }
            // The three replies may arrive in any order: collect them by session.
            var replies: [String: (String, MessagePackValue?)] = [:]
            while replies.count < 3, let (session, reply) = try await Self.anyReply(&frames, sessions: ["c0", "c1", "c2"]) {
                replies[session] = reply
            }
            let (method, error) = try #require(replies["c2"])
            #expect(method == "c2.reject")
            #expect(error?["_rvalue"]?.stringValue?.contains("may not call the built-in service") == true)
        }
    }
}
