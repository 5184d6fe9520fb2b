public import MessagePack

/// A callable value: a Swift closure offered to other peers, or a function of a remote peer.
///
/// ```swift
/// let double = RPCFunction(name: "double") { call in .int(Int64(call.positional[0].intValue! * 2)) }
/// let result = try await remoteAdd.call([1], kwargs: ["b": 2])
/// ```
public struct RPCFunction: Sendable {
    /// The signature of a local function body.
    public typealias Body = @Sendable (RPCCall) async throws -> RPCValue

    public enum Kind: Sendable {
        case local(name: String?, doc: String?, body: Body)
        case remote(RemoteFunction)
    }

    public let kind: Kind

    /// A function implemented by a Swift closure.
    public init(name: String? = nil, doc: String? = nil, _ body: @escaping Body) {
        kind = .local(name: name, doc: doc, body: body)
    }

    init(remote: RemoteFunction) {
        kind = .remote(remote)
    }

    /// The function's name, if known.
    public var name: String? {
        switch kind {
        case .local(let name, _, _): return name
        case .remote(let r): return r.name
        }
    }

    /// Calls the function. Remote functions wait for the result unless they are fire-and-forget.
    public func call(_ arguments: [RPCValue] = [], kwargs: RPCObject? = nil) async throws -> RPCValue {
        try await call(arguments, kwargs: kwargs, timeout: nil)
    }

    /// Calls the function; a remote call fails when its callee sends no news (answer or heartbeat) for
    /// `timeout` (`nil`: the peer's method timeout). Local functions run to the end.
    /// - Parameter whenSent: runs once the call is on its way to the callee (all of it, for a chunked call),
    ///   before its answer; for a local function, before it runs. For callers that must not send the next call
    ///   before this one (two calls on one socket arrive in the order they were sent).
    public func call(
        _ arguments: [RPCValue], kwargs: RPCObject?, timeout: Duration?, whenSent: (@Sendable () async -> Void)? = nil
    ) async throws -> RPCValue {
        switch kind {
        case .local(_, _, let body):
            if let whenSent { await whenSent() }
            return try await body(RPCCall(positional: arguments, keyword: kwargs ?? RPCObject(), context: nil))
        case .remote(let remote):
            return try await remote.peer.call(
                remote, arguments: arguments, kwargs: kwargs, timeout: timeout, whenSent: whenSent)
        }
    }

    /// Calls the function with no time limit: the callee is not asked for heartbeats (which saves a message per
    /// call), and the call ends when it answers, or fails when the connection to it ends. `whenSent` as in
    /// ``call(_:kwargs:timeout:whenSent:)``.
    public func callWithoutTimeLimit(
        _ arguments: [RPCValue], kwargs: RPCObject? = nil, whenSent: (@Sendable () async -> Void)? = nil
    ) async throws -> RPCValue {
        guard case .remote(let remote) = kind else {
            return try await call(arguments, kwargs: kwargs, timeout: nil, whenSent: whenSent)
        }
        return try await remote.peer.call(
            remote, arguments: arguments, kwargs: kwargs, timeout: .unlimitedCall, heartbeats: false, whenSent: whenSent)
    }

    public func callAsFunction(_ arguments: RPCValue..., kwargs: RPCObject? = nil) async throws -> RPCValue {
        try await call(arguments, kwargs: kwargs)
    }
}

/// What a local function receives: positional and keyword arguments and, for calls from other peers,
/// the trusted routing context.
public struct RPCCall: Sendable {
    public var positional: [RPCValue]
    public var keyword: RPCObject
    /// `nil` when the function was called locally.
    public var context: RPCContext?

    public init(positional: [RPCValue], keyword: RPCObject = RPCObject(), context: RPCContext? = nil) {
        self.positional = positional
        self.keyword = keyword
        self.context = context
    }

    /// The argument at `index`, or the keyword argument `name`.
    public func argument(_ index: Int, _ name: String) -> RPCValue? {
        if index < positional.count { return positional[index] }
        return keyword[name]
    }
}

/// The routing facts of an incoming call, as the server stamped them (they cannot be spoofed).
public struct RPCContext: Sendable {
    /// Caller address `"<workspace>/<client>"`.
    public var from: String
    /// Callee address.
    public var to: String
    /// The caller's workspace (for calls from the manager: the callee's workspace).
    public var workspace: String
    /// The caller's user info, as the server sent it.
    public var user: MessagePackValue?
    public var method: String
    /// The caller's session, when it waits for a result.
    public var session: String?

    public init(
        from: String, to: String, workspace: String, user: MessagePackValue?, method: String, session: String?
    ) {
        self.from = from
        self.to = to
        self.workspace = workspace
        self.user = user
        self.method = method
        self.session = session
    }

    /// The caller's workspace as written in `from`.
    public var callerWorkspace: String { Address.workspace(of: from) }
    /// The caller's client id as written in `from`.
    public var callerClientID: String { Address.client(of: from) }
}

/// A function of another peer, as described by its `_rtype: "method"` map.
public struct RemoteFunction: Sendable {
    /// How the callee expects to be answered.
    public enum PromiseMode: Sendable, Equatable {
        /// `_rpromise: "*"`: compact promise.
        case compact
        /// `_rpromise: true`: explicit promise map.
        case explicit
        /// `_rpromise: false`: fire and forget.
        case none
    }

    /// Absolute owner address `"<workspace>/<client>"`.
    public let target: String
    /// Method path on the owner.
    public let method: String
    public let promise: PromiseMode
    public let name: String?
    /// The descriptor as received, with `_rtarget` made absolute; re-sent verbatim.
    public let descriptor: MessagePackMap
    /// The remote session this function belongs to (sent as `parent` when called).
    let remoteParent: String?
    let peer: RPCPeer
}
