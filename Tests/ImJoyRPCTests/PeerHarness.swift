import Foundation
import ImJoyRPC
import ImJoyTesting
import Logging

/// Starts peers on an ``InMemoryNetwork`` and runs their receive loops for the duration of a test.
struct PeerHarness {
    let network = InMemoryNetwork()

    func makePeer(_ address: String, timeout: Duration = .seconds(30), chunkSize: Int = 256 * 1024)
        -> (peer: RPCPeer, frames: AsyncStream<Data>)
    {
        let (transport, frames) = network.attach(address)
        let configuration = RPCPeer.Configuration(
            clientID: Address.client(of: address), workspace: Address.workspace(of: address),
            serverBaseURL: "http://test", methodTimeout: timeout, chunkSize: chunkSize)
        return (RPCPeer(configuration: configuration, transport: transport, logger: Logger(label: "test")), frames)
    }

    /// Runs `body` while the given peers process their frames; stops them afterwards.
    func with<T: Sendable>(
        _ peers: [(peer: RPCPeer, frames: AsyncStream<Data>)], _ body: @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (peer, frames) in peers {
                group.addTask { await peer.run(frames: frames) }
            }
            defer { group.cancelAll() }
            let result = try await body()
            for (peer, _) in peers { network.detach(await peer.address) }
            return result
        }
    }
}

/// Counts calls from concurrent closures.
actor Counter {
    private(set) var value = 0
    func add(_ n: Int) { value += n }
}
