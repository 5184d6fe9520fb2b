import ArgumentParser
import Foundation
import ImJoyRPC
import Logging
import Synchronization

/// The RPC layer alone: two ``RPCPeer``s in one process, joined by a transport that hands each frame straight to
/// the other peer (no socket, no server). What a call costs here is what the peers themselves cost (encoding,
/// decoding, sessions, tasks); the network benchmark's figure minus this one is the transport's share.
struct PeerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer", abstract: "Echo calls between two RPC peers in one process, without a network.")

    @Option var calls = 20_000
    @Option var inflight = 64

    func run() async throws {
        let (calls, inflight) = (calls, inflight)
        let toCaller = DirectTransport()
        let toCallee = DirectTransport()
        let logger = Logger(label: "imjoy.bench.peer")
        let caller = RPCPeer(
            configuration: .init(clientID: "caller", workspace: "ws", serverBaseURL: "http://bench"),
            transport: toCallee, logger: logger)
        let callee = RPCPeer(
            configuration: .init(clientID: "callee", workspace: "ws", serverBaseURL: "http://bench"),
            transport: toCaller, logger: logger)
        toCallee.connect(to: callee)
        toCaller.connect(to: caller)
        await callee.addService(
            RPCService(
                id: "echo", visibility: .public,
                members: ["echo": .function(RPCFunction(name: "echo") { call in call.positional.first ?? .null })]))
        let echo = await caller.remoteFunction(target: "ws/callee", method: "services.echo.echo")
        for _ in 0..<500 { _ = try await echo.call(["warm-up"]) }
        let clock = ContinuousClock()
        let cpu0 = cpuSeconds(pid: getpid()) ?? 0
        let start = clock.now
        for _ in 0..<calls { _ = try await echo.call(["hello-imjoy-bench"]) }
        let sequential = clock.now - start
        let cpu1 = cpuSeconds(pid: getpid()) ?? 0
        let concurrentStart = clock.now
        let perWorker = calls / inflight
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<inflight {
                group.addTask { for _ in 0..<perWorker { _ = try await echo.call(["hello-imjoy-bench"]) } }
            }
            try await group.waitForAll()
        }
        let concurrent = clock.now - concurrentStart
        let cpu2 = cpuSeconds(pid: getpid()) ?? 0
        let seconds = { (d: Duration) in Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        let concurrentCalls = Double(perWorker * inflight)
        printJSON([
            "calls": calls, "inflight": inflight,
            "sequential_us_per_call": seconds(sequential) / Double(calls) * 1e6,
            "sequential_cpu_us_per_call": (cpu1 - cpu0) / Double(calls) * 1e6,
            "inflight_calls_per_s": concurrentCalls / seconds(concurrent),
            "inflight_cpu_us_per_call": (cpu2 - cpu1) / concurrentCalls * 1e6,
        ])
    }
}

/// Hands frames to one peer. Peers write their own `from`, which is all the callee needs here, so a frame goes
/// as it is; the callee's service calls run as tasks, as a connection's receive loop runs them.
final class DirectTransport: RPCTransport {
    private let target = Mutex<RPCPeer?>(nil)

    func connect(to peer: RPCPeer) {
        target.withLock { $0 = peer }
    }

    func send(_ frame: Data) async throws {
        guard let peer = target.withLock({ $0 }) else { return }
        for work in await peer.handle(frame) {
            Task { await work() }
        }
    }
}
