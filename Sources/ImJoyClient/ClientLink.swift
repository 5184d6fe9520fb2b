#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC

/// What an ``ImJoyClient`` talks through: a socket (``ClientConnection``) or an engine in the same process
/// (``InProcessLink``).
protocol ClientLink: Sendable {
    /// Carries the peer's frames to the engine.
    var transport: any RPCTransport { get }
    /// Where the client's tasks run (the socket's event loop), or `nil` for the default executor.
    var executor: (any TaskExecutor)? { get }
    /// Hands the engine's frames to `peer` until the link closes, running service calls concurrently; then every
    /// pending call fails.
    func serve(_ peer: RPCPeer) async
    /// Returns once the link is closed; cancelling the waiting task closes it.
    func waitUntilClosed() async
    /// Closes the link politely.
    func close() async
}

/// The receive loop of ``ClientLink/serve(_:)``: each frame goes to `peer` in order, the service calls it starts run
/// concurrently, and when `frames` ends pending calls fail.
func serveFrames<Frames: AsyncSequence & Sendable>(_ frames: Frames, to peer: RPCPeer) async where Frames.Element == Data {
    await withDiscardingTaskGroup { group in
        group.addTask { await peer.serveTimeouts() }
        do {
            for try await frame in frames {
                for work in await peer.handle(frame) {
                    group.addTask { await work() }
                }
            }
        } catch {}
        await peer.connectionClosed(reason: "Connection was closed")
        group.cancelAll()
    }
}
