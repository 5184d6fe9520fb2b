#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Carries binary frames (msgpack, PROTOCOL.md §2.2) from an ``RPCPeer`` to the server.
///
/// Inbound frames are handed to ``RPCPeer/run(frames:)`` by whoever owns the connection.
/// - Important: `send` may be called from several tasks at once; implementations serialise writes.
public protocol RPCTransport: Sendable {
    /// Sends one frame. Throws when the connection is closed.
    func send(_ frame: Data) async throws
}
