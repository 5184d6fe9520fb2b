import MessagePack

/// Collects what encoding a value creates on the sending side: local functions and generators that the
/// receiver may call back (stored under the call's session), and `_rintf` interfaces (temporary services).
struct EncodingSink {
    /// A function body the peer must serve under `<session>.<id>`.
    typealias Callback = RPCFunction.Body

    let peerAddress: String
    let serverBaseURL: String
    let sessionID: String?
    /// The peer the encoded value is sent to (the only one allowed to call `_rintf` services).
    var recipient: String?
    /// Whether `_rintf` objects become temporary services (else they are sent as plain objects).
    var allowsInterfaces = true
    private(set) var callbacks: [String: Callback] = [:]
    private(set) var interfaces: [RPCService] = []

    init(peerAddress: String, serverBaseURL: String, sessionID: String?, recipient: String? = nil) {
        self.peerAddress = peerAddress
        self.serverBaseURL = serverBaseURL
        self.sessionID = sessionID
        self.recipient = recipient
    }

    var isEmpty: Bool { callbacks.isEmpty && interfaces.isEmpty }

    mutating func storeFunction(name: String?, doc: String?, body: @escaping Callback) -> MessagePackValue {
        let session = sessionID ?? "anonymous"
        var objectID = ShortID.make()
        if let name, !name.isEmpty, !name.contains(".") { objectID += "#\(name)" }
        callbacks[objectID] = body
        return [
            "_rtype": "method", "_rserver": .string(serverBaseURL), "_rtarget": .string(peerAddress),
            "_rmethod": .string("\(session).\(objectID)"), "_rname": name.map { .string($0) } ?? .nil,
            "_rpromise": "*", "_rdoc": doc.map { .string($0) } ?? .nil,
        ]
    }

    mutating func storeGenerator(
        next: @escaping @Sendable () async throws -> RPCValue?, close: @escaping @Sendable () async -> Void
    ) -> MessagePackValue {
        let session = sessionID ?? "anonymous"
        let objectID = ShortID.make()
        callbacks[objectID] = { _ in
            try await next() ?? .encoded(["_rtype": "stop_iteration"])
        }
        callbacks["\(objectID):close"] = { _ in
            await close()
            return .bool(true)
        }
        return [
            "_rtype": "generator", "_rserver": .string(serverBaseURL), "_rtarget": .string(peerAddress),
            "_rmethod": .string("\(session).\(objectID)"), "_rclose_method": .string("\(session).\(objectID):close"),
            "_rpromise": "*", "_rdoc": "Remote generator",
        ]
    }

    /// Turns an `_rintf` object into a temporary protected service and encodes it as hypha-rpc does:
    /// the original keys, functions as service methods, plus `_dispose` and `_rintf_service_id`.
    mutating func registerInterface(_ object: RPCObject) -> MessagePackValue {
        let serviceID = "_rintf_\(ShortID.make())"
        var members = RPCObject()
        for (key, value) in object where !key.hasPrefix("_") {
            if case .function(let f) = value, case .local = f.kind { members[key] = value }
        }
        var service = RPCService(id: serviceID, type: "rintf", members: members)
        service.allowedCaller = recipient
        interfaces.append(service)
        var map = MessagePackMap()
        for (key, value) in object {
            if case .function(let f) = value, case .local = f.kind, !key.hasPrefix("_") {
                map[key] = methodDescriptor(service: serviceID, path: key, name: f.name ?? key)
            } else {
                map[key] = ValueCodec.encode(value, into: &self)
            }
        }
        map["_dispose"] = methodDescriptor(service: serviceID, path: "_dispose", name: "_dispose")
        map["_rintf_service_id"] = .string(serviceID)
        return .map(map)
    }

    func methodDescriptor(service: String, path: String, name: String?) -> MessagePackValue {
        [
            "_rtype": "method", "_rserver": .string(serverBaseURL), "_rtarget": .string(peerAddress),
            "_rmethod": .string("services.\(service).\(path)"), "_rpromise": "*",
            "_rname": name.map { .string($0) } ?? .nil, "_rdoc": .nil,
        ]
    }
}
