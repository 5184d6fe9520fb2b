/// Local state kept under a session id: the call awaiting an answer (if any) and the callbacks that were
/// sent to the session's target as arguments (functions, generators).
struct Session {
    /// Absolute address of the peer this session talks to; only it may call into the session.
    var target: String?
    var reply: PendingReply?
    var callbacks: [String: RPCFunction.Body] = [:]
    var lastActivity: ContinuousClock.Instant

    var isIdle: Bool { reply == nil && callbacks.isEmpty }
}
