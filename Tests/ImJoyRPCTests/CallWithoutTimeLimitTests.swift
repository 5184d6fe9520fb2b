import Foundation
import ImJoyRPC
import ImJoyTesting
import MessagePack
import Synchronization
import Testing

/// `RPCFunction.callWithoutTimeLimit`: the callee is asked for no heartbeats and the call outlives the caller's
/// method timeout. (That heartbeats keep a call with a timeout alive is in RPCPeerLifecycleTests.)
struct CallWithoutTimeLimitTests {
    struct Observed: Sendable {
        var result: RPCValue
        /// Heartbeat calls the caller received.
        var heartbeats: Int
        /// The `promise` of the call as the callee received it.
        var promise: MessagePackValue?
    }

    /// Calls a provider's 1.5 s `sleep` with `call`, watching the frames on both sides.
    private func observe(
        timeout: Duration, _ call: @escaping @Sendable (RPCFunction) async throws -> RPCValue
    ) async throws -> Observed {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let caller = harness.makePeer("ws-a/caller", timeout: timeout)
        await provider.peer.addService(RPCPeerLifecycleTests.sleeper(.milliseconds(1500)))
        let heartbeats = Mutex(0)
        let promise = Mutex<MessagePackValue?>(nil)
        func messages(_ frame: Data) -> [MessagePackValue] {
            var rest = frame[...]
            var values: [MessagePackValue] = []
            while !rest.isEmpty, let (value, used) = try? MessagePackDecoder().decodeFirst(Data(rest)) {
                values.append(value)
                rest = rest.dropFirst(used)
            }
            return values
        }
        let toCaller = caller.frames.map { frame -> Data in
            if case .map(let header)? = messages(frame).first, header["method"]?.stringValue?.hasSuffix(".heartbeat") == true {
                heartbeats.withLock { $0 += 1 }
            }
            return frame
        }
        let toProvider = provider.frames.map { frame -> Data in
            let parts = messages(frame)
            if case .map(let header)? = parts.first, header["method"]?.stringValue == "services.slow.sleep" {
                let extra: MessagePackMap? = if parts.count > 1, case .map(let map) = parts[1] { map } else { nil }
                promise.withLock { $0 = extra?["promise"] ?? header["promise"] }
            }
            return frame
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await provider.peer.run(frames: toProvider) }
            group.addTask { await caller.peer.run(frames: toCaller) }
            defer { group.cancelAll() }
            let sleep = await caller.peer.remoteFunction(target: "ws-a/provider", method: "services.slow.sleep")
            let result = try await call(sleep)
            harness.network.detach("ws-a/provider")
            harness.network.detach("ws-a/caller")
            return Observed(result: result, heartbeats: heartbeats.withLock { $0 }, promise: promise.withLock { $0 })
        }
    }

    @Test("a call without a time limit outlives the method timeout and asks for no heartbeats", .timeLimit(.minutes(1)))
    func noHeartbeats() async throws {
        let observed = try await observe(timeout: .milliseconds(500)) { sleep in try await sleep.callWithoutTimeLimit([]) }
        #expect(observed.result.stringValue == "done", "1.5 s of work outlived the caller's 0.5 s method timeout")
        #expect(observed.heartbeats == 0)
        guard case .map(let promise)? = observed.promise else {
            Issue.record("the call carried no explicit promise: \(String(describing: observed.promise))")
            return
        }
        #expect(promise["resolve"] != nil && promise["reject"] != nil)
        #expect(promise["heartbeat"] == nil && promise["interval"] == nil, "no heartbeat asked for")
    }

    @Test("an ordinary call asks for heartbeats", .timeLimit(.minutes(1)))
    func ordinaryCallAsksForHeartbeats() async throws {
        let observed = try await observe(timeout: .seconds(30)) { sleep in try await sleep.call([]) }
        #expect(observed.result.stringValue == "done")
        #expect(observed.promise == "*", "the compact promise: resolve, reject and heartbeat every t seconds")
    }
}
