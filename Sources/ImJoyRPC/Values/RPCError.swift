/// A failure of the RPC layer itself: a timeout, a peer that went away, a call that cannot be routed.
public struct RPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// No answer (and no heartbeat) within the call's timeout.
        case timeout
        /// The target peer disconnected, or is not connected.
        case peerDisconnected
        /// Our own connection closed.
        case connectionClosed
        /// The method path names nothing on the callee.
        case methodNotFound
        /// The caller may not call this method.
        case permissionDenied
        /// A message or value is malformed.
        case invalidMessage
        /// A value cannot be encoded or decoded.
        case invalidValue
        /// A message is larger than a limit.
        case tooLarge
        /// The call was cancelled by the caller.
        case cancelled
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
