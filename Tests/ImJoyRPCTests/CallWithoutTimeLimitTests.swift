import Foundation
import ImJoyRPC
import ImJoyTesting
import MessagePack
import Synchronization
import Testing

/// `RPCFunction.callWithoutTimeLimit`: the callee is asked for no heartbeats and the call outlives the caller's
/// method timeout.
struct CallWithoutTimeLimitTests {
    /// The heartbeats a caller receives while `call` runs (the call's outcome too).
    private func heartbeatsReceived(
        timeout: Duration, _ call: @escaping @Sendable (RPCFunction) async throws -> RPCValue
    ) async throws -> (result: RPCValue, heartbeats: Int) {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let caller = harness.makePeer("ws-a/caller", timeout: timeout)
        await provider.peer.addService(RPCPeerLifecycleTests.sleeper(.milliseconds(2500)))
        let heartbeats = Mutex(0)
        // The caller's inbound frames, counted on the way.
        let counted = caller.frames.map { frame -> Data in
            if case .map(let header)? = try? MessagePackDecoder().decodeFirst(frame).value,
                header["method"]?.stringValue?.hasSuffix(".heartbeat") == true
            {
                heartbeats.withLock { $0 += 1 }
            }
            return frame
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await provider.peer.run(frames: provider.frames) }
            group.addTask { await caller.peer.run(frames: counted) }
            defer { group.cancelAll() }
            let sleep = await caller.peer.remoteFunction(target: "ws-a/provider", method: "services.slow.sleep")
            let result = try await call(sleep)
            harness.network.detach("ws-a/provider")
            harness.network.detach("ws-a/caller")
            return (result, heartbeats.withLock { $0 })
        }
    }

    @Test("a call without a time limit outlives the method timeout with no heartbeats", .timeLimit(.minutes(1)))
    func noHeartbeats() async throws {
        let (result, heartbeats) = try await heartbeatsReceived(timeout: .seconds(1)) { sleep in
            try await sleep.callWithoutTimeLimit([])
        }
        #expect(result.stringValue == "done", "2.5 s of work outlived the caller's 1 s method timeout")
        #expect(heartbeats == 0, "the callee was asked for no heartbeats")
    }

    @Test("the same call with a timeout gets heartbeats", .timeLimit(.minutes(1)))
    func heartbeatsWithATimeout() async throws {
        let (result, heartbeats) = try await heartbeatsReceived(timeout: .seconds(30)) { sleep in
            try await sleep.call([], kwargs: nil, timeout: .seconds(3))
        }
        #expect(result.stringValue == "done")
        #expect(heartbeats >= 1, "a beat every 1.5 s (half the 3 s timeout) during 2.5 s of work")
    }
}
