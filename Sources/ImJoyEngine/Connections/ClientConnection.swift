import MessagePack
public import NIOCore
#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import Synchronization

/// A frame for a client's socket.
public enum OutboundFrame: Sendable {
    case text(String)
    /// A binary message: the rewritten routing header followed by the sender's body bytes, untouched.
    case binary(header: ByteBuffer, body: ByteBuffer)
}

/// Where a connection's outgoing frames go (the server's WebSocket writer).
/// - Important: both methods must return at once; they are called from other connections' receive loops.
public protocol ConnectionSink: Sendable {
    /// Queues a frame for the socket.
    func send(_ frame: OutboundFrame)
    /// Sends a close frame with `code` and `reason`, then closes the socket.
    func close(code: UInt16, reason: String)
}

/// One authenticated socket: who it is, where it lives, and the little state routing needs.
public final class ClientConnection: Sendable, Hashable, CustomStringConvertible {
    /// Unique per socket (a reconnection gets a new one).
    public let serial: UInt64
    public let workspace: String
    public let clientID: String
    /// `"<workspace>/<client_id>"`.
    public let address: String
    public let user: UserInfo
    /// A worker token's connection: it may only talk to the manager (register plugin hosts, answer calls).
    let isPluginHostOnly: Bool
    /// The `from`, `ws` and `user` header entries in msgpack, encoded once and spliced into every message this
    /// connection sends.
    let senderFields: [UInt8]
    let sink: any ConnectionSink
    /// When the socket was accepted (a reconnection token older than this cannot take the address over).
    public let connectedAt: Date
    private let subscriptionSet = Mutex<Set<String>>([])
    private let contactSet = Mutex<Set<String>>([])
    private let managerCalls = Mutex(0)
    /// For a plugin process the engine supervises: the calls waiting on it.
    let callTracker: CallTracker?

    init(
        serial: UInt64, workspace: String, clientID: String, user: UserInfo, sink: any ConnectionSink,
        callTracker: CallTracker? = nil
    ) {
        self.callTracker = callTracker
        self.connectedAt = Date()
        self.serial = serial
        self.workspace = workspace
        self.clientID = clientID
        self.address = "\(workspace)/\(clientID)"
        self.user = user
        self.isPluginHostOnly = user.isPluginHostOnly
        self.senderFields = RoutingHeader.senderFields(
            from: address, workspace: workspace, user: MessagePackEncoder.encodeBytes(user.messagePackValue))
        self.sink = sink
    }

    public var description: String { "\(address)#\(serial)" }

    /// Event types this connection subscribed to.
    public var subscriptions: Set<String> { subscriptionSet.withLock { $0 } }

    /// Adds subscriptions unless that would exceed `limit` event types; returns whether it did.
    func subscribe(_ types: [String], limit: Int) -> Bool {
        subscriptionSet.withLock { set in
            guard set.union(types).count <= limit else { return false }
            set.formUnion(types)
            return true
        }
    }

    /// Counts a manager call in flight; false when `limit` are already running.
    func beginManagerCall(limit: Int) -> Bool {
        managerCalls.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func endManagerCall() { managerCalls.withLock { $0 -= 1 } }
    func unsubscribe(_ types: [String]) { subscriptionSet.withLock { $0.subtract(types) } }
    func isSubscribed(to type: String) -> Bool { subscriptionSet.withLock { $0.contains(type) } }

    /// Remembers that this connection called `address` (so it hears when that peer leaves).
    func noteContact(_ address: String) {
        contactSet.withLock { _ = $0.insert(address) }
    }

    /// Forgets `address`; returns whether it was a contact.
    func forgetContact(_ address: String) -> Bool {
        contactSet.withLock { $0.remove(address) != nil }
    }

    public static func == (lhs: ClientConnection, rhs: ClientConnection) -> Bool { lhs.serial == rhs.serial }
    public func hash(into hasher: inout Hasher) { hasher.combine(serial) }
}
