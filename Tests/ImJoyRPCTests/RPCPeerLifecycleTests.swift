import Foundation
import ImJoyRPC
import ImJoyTesting
import Testing

struct RPCPeerLifecycleTests {
    static func sleeper(_ duration: Duration, id: String = "slow") -> RPCService {
        RPCService(
            id: id, visibility: .public,
            members: [
                "sleep": .function(
                    RPCFunction { _ in
                        try await Task.sleep(for: duration)
                        return "done"
                    })
            ])
    }

    @Test("a call to a peer that never answers times out", .timeLimit(.minutes(1)))
    func timeout() async throws {
        let harness = PeerHarness()
        let silent = harness.makePeer("ws-a/silent")
        let caller = harness.makePeer("ws-a/caller", timeout: .milliseconds(500))
        _ = silent
        try await harness.with([caller]) { () async throws in
            let start = ContinuousClock.now
            let error = try await #require(throws: RPCError.self) {
                try await caller.peer.call(target: "ws-a/silent", method: "services.x.y")
            }
            #expect(error.code == .timeout)
            #expect(ContinuousClock.now - start < .seconds(10), "a timeout, not a hang")
        }
    }

    @Test("heartbeats keep a slow call alive past the timeout", .timeLimit(.minutes(1)))
    func heartbeats() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        // Beats every 3 s against a 6 s timeout: a loaded CI machine has stalled a beat by more than 2 s.
        let caller = harness.makePeer("ws-a/caller", timeout: .seconds(6))
        await provider.peer.addService(Self.sleeper(.seconds(13)))
        await provider.peer.addService(Self.sleeper(.zero, id: "quick"))
        try await harness.with([provider, caller]) { () async throws in
            // Both receive loops are running before the timed call (a busy parallel test run can take seconds to
            // start new tasks, and the timeout counts from the moment the call is sent).
            _ = try await caller.peer.call(target: "ws-a/provider", method: "services.quick.sleep", timeout: .seconds(60))
            let result = try await caller.peer.call(target: "ws-a/provider", method: "services.slow.sleep")
            #expect(result.stringValue == "done", "13 s of work outlived a 6 s timeout on heartbeats (every 3 s)")
        }
    }

    @Test("a pending call fails at once when its target disconnects, naming it", .timeLimit(.minutes(1)))
    func targetDisconnects() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let caller = harness.makePeer("ws-a/caller")
        await provider.peer.addService(Self.sleeper(.seconds(60)))
        try await harness.with([caller]) { () async throws in
            let providerLoop = Task { await provider.peer.run(frames: provider.frames) }
            defer { providerLoop.cancel() }
            let call = Task { try await caller.peer.call(target: "ws-a/provider", method: "services.slow.sleep") }
            try await Task.sleep(for: .milliseconds(300))
            let detached = ContinuousClock.now
            harness.network.detach("ws-a/provider")
            guard case .failure(let error as RPCError) = await call.result else {
                Issue.record("the call should fail with an RPCError")
                return
            }
            #expect(ContinuousClock.now - detached < .seconds(5), "at once, not after the 30 s call timeout")
            #expect(error.code == .peerDisconnected)
            #expect(error.message == "Client disconnected: ws-a/provider")
        }
    }

    @Test("a call to an unknown peer is rejected with a clear message", .timeLimit(.minutes(1)))
    func unknownPeer() async throws {
        let harness = PeerHarness()
        let caller = harness.makePeer("ws-a/caller")
        try await harness.with([caller]) { () async throws in
            let error = try await #require(throws: RemoteError.self) {
                try await caller.peer.call(target: "ws-a/ghost", method: "services.x.y")
            }
            #expect(error.message == "Target peer ws-a/ghost is not connected")
        }
    }

    @Test("when our own connection closes every pending call fails", .timeLimit(.minutes(1)))
    func ownConnectionCloses() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let caller = harness.makePeer("ws-a/caller")
        await provider.peer.addService(Self.sleeper(.seconds(60)))
        try await harness.with([provider]) { () async throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await caller.peer.run(frames: caller.frames) }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(200))
                    harness.network.detach("ws-a/caller")
                }
                let error = try await #require(throws: RPCError.self) {
                    try await caller.peer.call(target: "ws-a/provider", method: "services.slow.sleep")
                }
                #expect(error.code == .connectionClosed)
                await #expect(throws: RPCError.self) {
                    try await caller.peer.call(target: "ws-a/provider", method: "services.slow.sleep")
                }
                group.cancelAll()
            }
        }
    }

    @Test("cancelling the calling task settles the call", .timeLimit(.minutes(1)))
    func cancellation() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let caller = harness.makePeer("ws-a/caller")
        await provider.peer.addService(Self.sleeper(.seconds(60)))
        try await harness.with([provider, caller]) { () async throws in
            let task = Task { try await caller.peer.call(target: "ws-a/provider", method: "services.slow.sleep") }
            try await Task.sleep(for: .milliseconds(100))
            task.cancel()
            let result = await task.result
            guard case .failure(let error as RPCError) = result else {
                Issue.record("expected an RPCError, got \(result)")
                return
            }
            #expect(error.code == .cancelled)
        }
    }
}
