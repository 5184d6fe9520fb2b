public import Foundation
public import ImJoyRPC
import MessagePack
import Synchronization

/// An in-process stand-in for the server: peers attach under an address and exchange frames, with the
/// header rewrite the real router does (`from`, `ws`, `user` stamped; relative `to` completed;
/// `client_disconnected` broadcast when a peer detaches).
public final class InMemoryNetwork: Sendable {
    private struct Endpoint {
        var continuation: AsyncStream<Data>.Continuation
    }

    private let endpoints = Mutex<[String: Endpoint]>([:])

    public init() {}

    /// Attaches a peer at `address` (`"<workspace>/<client>"`); returns its transport and inbound frames.
    public func attach(_ address: String) -> (transport: InMemoryTransport, frames: AsyncStream<Data>) {
        let (stream, continuation) = AsyncStream<Data>.makeStream()
        endpoints.withLock { $0[address] = Endpoint(continuation: continuation) }
        return (InMemoryTransport(network: self, address: address), stream)
    }

    /// Detaches a peer: its inbound stream ends and the others are told it disconnected.
    public func detach(_ address: String) {
        let endpoint = endpoints.withLock { $0.removeValue(forKey: address) }
        endpoint?.continuation.finish()
        let workspace = Address.workspace(of: address)
        let event = MessagePackEncoder.encode([
            "type": "client_disconnected", "to": "*",
            "data": ["id": .string(Address.client(of: address)), "workspace": .string(workspace)],
        ])
        for other in endpoints.withLock({ Array($0.values) }) { other.continuation.yield(event) }
    }

    /// Routes a frame from `sender` as the server would. Unknown targets get a reject for `session`.
    func route(_ frame: Data, from sender: String) throws {
        let decoder = MessagePackDecoder()
        let (first, used) = try decoder.decodeFirst(frame)
        guard case .map(var header) = first, let rawTo = header["to"]?.stringValue else {
            throw RPCError(.invalidMessage, "frame without a routing header")
        }
        let workspace = Address.workspace(of: sender)
        let to = rawTo == "*" ? "\(workspace)/*" : Address.absolute(rawTo, in: workspace)
        header["to"] = .string(to)
        header["from"] = .string(sender)
        header["ws"] = .string(workspace)
        header["user"] = ["id": .string("user-of-\(sender)")]
        var writer = MessagePackWriter()
        writer.write(.map(header))
        writer.writeRaw(frame[(frame.startIndex + used)...])
        let rewritten = writer.data
        if to.hasSuffix("/*") {
            for endpoint in endpoints.withLock({ Array($0.values) }) { endpoint.continuation.yield(rewritten) }
            return
        }
        if let endpoint = endpoints.withLock({ $0[to] }) {
            endpoint.continuation.yield(rewritten)
        } else if let session = header["session"]?.stringValue {
            let reject = FrameEncoding.frame(
                main: ["type": "method", "from": .string(to), "to": .string(sender), "method": .string("\(session).reject")],
                extra: ["args": [["_rtype": "error", "_rvalue": .string("Target peer \(to) is not connected"), "_rtrace": ""]]])
            endpoints.withLock { $0[sender] }?.continuation.yield(reject)
        }
    }
}

/// The sending half of a peer attached to an ``InMemoryNetwork``.
public struct InMemoryTransport: RPCTransport {
    let network: InMemoryNetwork
    public let address: String

    public func send(_ frame: Data) async throws {
        try network.route(frame, from: address)
    }
}

enum FrameEncoding {
    static func frame(main: MessagePackMap, extra: MessagePackMap) -> Data {
        var writer = MessagePackWriter()
        writer.write(.map(main))
        writer.write(.map(extra))
        return writer.data
    }
}
