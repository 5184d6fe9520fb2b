import Foundation
import ImJoyRPC
import ImJoyTesting
import Logging
import MessagePack
import Synchronization
import Testing

/// `whenSent` of `RPCFunction.call` and `callWithoutTimeLimit`: it runs once, when the call is on its way, before
/// the answer (the batch runner lets the next input's call go only then, so calls arrive in input order).
struct WhenSentTests {
    /// What `whenSent` saw: how often it ran, whether the answer had come by then, and the methods of the frames
    /// the caller had handed to its transport by then.
    final class Sightings: Sendable {
        private let state = Mutex<(count: Int, answered: Bool, sentBeforeAnswer: Bool?, methodsSent: [String])>(
            (0, false, nil, []))
        var count: Int { state.withLock { $0.count } }
        var sentBeforeAnswer: Bool? { state.withLock { $0.sentBeforeAnswer } }
        var methodsSent: [String] { state.withLock { $0.methodsSent } }
        func sent(_ methods: [String] = []) {
            state.withLock {
                $0.count += 1
                $0.sentBeforeAnswer = !$0.answered
                $0.methodsSent = methods
            }
        }
        func answered() { state.withLock { $0.answered = true } }
    }

    /// A transport that notes the method of every frame it passes on.
    final class NotingTransport: RPCTransport {
        let inner: any RPCTransport
        private let methods = Mutex<[String]>([])
        var sent: [String] { methods.withLock { $0 } }

        init(_ inner: any RPCTransport) { self.inner = inner }

        func send(_ frame: Data) async throws {
            if case .map(let header)? = try? MessagePackDecoder().decodeFirst(frame).0, let method = header["method"]?.stringValue {
                methods.withLock { $0.append(method) }
            }
            try await inner.send(frame)
        }
    }

    /// A service that answers with its payload's size once the caller's `whenSent` has run (-2 when that has not
    /// happened within 5 s: `whenSent` would then come only after the answer).
    static func sizer(waitingFor sightings: Sightings) -> RPCService {
        RPCService(
            id: "sizer", visibility: .public,
            members: [
                "size": .function(
                    RPCFunction { call in
                        for _ in 0..<500 where sightings.count == 0 { try await Task.sleep(for: .milliseconds(10)) }
                        guard sightings.count > 0 else { return -2 }
                        return .int(Int64(call.positional.first?.bytesValue?.count ?? -1))
                    })
            ])
    }

    @Test(
        "whenSent runs once, after the call is sent and before its answer, for plain and chunked calls",
        .timeLimit(.minutes(1)), arguments: [100, 20_000], [false, true])
    func once(payloadSize: Int, withoutTimeLimit: Bool) async throws {
        let harness = PeerHarness()
        // 4 KiB chunks: a 20,000-byte payload goes through the provider's message_cache in several chunks.
        let provider = harness.makePeer("ws-a/provider", chunkSize: 4096)
        let (socket, frames) = harness.network.attach("ws-a/caller")
        let transport = NotingTransport(socket)
        let caller = (
            peer: RPCPeer(
                configuration: .init(clientID: "caller", workspace: "ws-a", serverBaseURL: "http://test", chunkSize: 4096),
                transport: transport, logger: Logger(label: "test")),
            frames: frames
        )
        let sightings = Sightings()
        await provider.peer.addService(Self.sizer(waitingFor: sightings))
        let answer = try await harness.with([provider, caller]) {
            let size = await caller.peer.remoteFunction(target: "ws-a/provider", method: "services.sizer.size")
            let payload: [RPCValue] = [.bytes(Data(repeating: 7, count: payloadSize))]
            let result =
                withoutTimeLimit
                ? try await size.callWithoutTimeLimit(payload, whenSent: { sightings.sent(transport.sent) })
                : try await size.call(payload, kwargs: nil, timeout: nil, whenSent: { sightings.sent(transport.sent) })
            sightings.answered()
            return result
        }
        #expect(answer.intValue == payloadSize)
        #expect(sightings.count == 1)
        #expect(sightings.sentBeforeAnswer == true)
        // By then the whole call had left: the call itself, or its chunks and the message_cache's `process`.
        let cache = "services.built-in.message_cache"
        if payloadSize > 4096 {
            #expect(sightings.methodsSent.contains("\(cache).create"))
            #expect(sightings.methodsSent.filter { $0 == "\(cache).set" }.count >= payloadSize / 4096)
            #expect(sightings.methodsSent.last == "\(cache).process")
        } else {
            #expect(sightings.methodsSent.last == "services.sizer.size")
        }
    }

    @Test(
        "a chunked call without a time limit waits for a receiver that answers nothing for a while",
        .timeLimit(.minutes(1)))
    func chunkedCallToABusyReceiver() async throws {
        // The receiver takes each frame 300 ms late (a plugin computing without returning to its event loop); the
        // caller's method timeout is 100 ms. The chunks of a call without a time limit must not time out.
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider", chunkSize: 4096)
        let caller = harness.makePeer("ws-a/caller", timeout: .milliseconds(100), chunkSize: 4096)
        let sightings = Sightings()
        await provider.peer.addService(Self.sizer(waitingFor: sightings))
        let late = provider.frames.map { frame -> Data in
            try? await Task.sleep(for: .milliseconds(300))
            return frame
        }
        let answer = try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await provider.peer.run(frames: late) }
            group.addTask { await caller.peer.run(frames: caller.frames) }
            defer { group.cancelAll() }
            let size = await caller.peer.remoteFunction(target: "ws-a/provider", method: "services.sizer.size")
            let result = try await size.callWithoutTimeLimit(
                [.bytes(Data(repeating: 1, count: 10_000))], whenSent: { sightings.sent() })
            harness.network.detach("ws-a/provider")
            harness.network.detach("ws-a/caller")
            return result
        }
        #expect(answer.intValue == 10_000)
    }

    @Test("a local function's whenSent runs before its body", .timeLimit(.minutes(1)))
    func local() async throws {
        let sightings = Sightings()
        let function = RPCFunction { _ in
            sightings.answered()
            return .null
        }
        _ = try await function.call([], kwargs: nil, timeout: nil, whenSent: { sightings.sent() })
        #expect(sightings.count == 1 && sightings.sentBeforeAnswer == true)
    }
}
