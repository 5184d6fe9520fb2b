import MessagePack

/// Who may call a service's functions.
public enum ServiceVisibility: String, Sendable {
    /// Anyone holding the descriptor.
    case `public`
    /// Only peers of the same workspace (or of `authorizedWorkspaces`), and the manager.
    case protected
    /// Like public, but not listed.
    case unlisted
}

/// A service a peer offers: functions and plain values under an id, with metadata and access rules.
///
/// ```swift
/// let calc = RPCService(id: "calc", name: "Calculator", visibility: .public, members: [
///     "add": .function(RPCFunction(name: "add") { call in ... }),
///     "version": "1.0",
/// ])
/// await peer.addService(calc)
/// ```
public struct RPCService: Sendable {
    /// The bare service id (no workspace or client part).
    public var id: String
    public var name: String?
    public var type: String
    public var description: String?
    public var docs: String?
    public var visibility: ServiceVisibility
    /// Workspaces that may call a protected service besides its own.
    public var authorizedWorkspaces: [String]
    /// Further config keys sent with the service info (e.g. `require_context`, `flags`).
    public var extraConfig: RPCObject
    /// Functions, values and nested objects.
    public var members: RPCObject
    /// For `_rintf` services: the only peer allowed to call them.
    var allowedCaller: String?

    public init(
        id: String, name: String? = nil, type: String = "generic", description: String? = nil,
        docs: String? = nil, visibility: ServiceVisibility = .protected, authorizedWorkspaces: [String] = [],
        extraConfig: RPCObject = RPCObject(), members: RPCObject
    ) {
        self.id = id
        self.name = name
        self.type = type
        self.description = description
        self.docs = docs
        self.visibility = visibility
        self.authorizedWorkspaces = authorizedWorkspaces
        self.extraConfig = extraConfig
        self.members = members
    }

    /// The member at a dotted path inside the service (`"nested.inner"`).
    func member(at path: ArraySlice<Substring>) -> RPCValue? {
        var current: RPCValue = .object(members)
        for component in path {
            guard case .object(let object) = current, let next = object[String(component)] else { return nil }
            current = next
        }
        return current
    }

    /// Whether a caller in `workspace` (address `caller`) may call this service of a peer in `ownWorkspace`.
    func permits(caller: String, ownWorkspace: String, managerID: String?) -> Bool {
        if visibility != .protected { return true }
        let callerWorkspace = Address.workspace(of: caller)
        if callerWorkspace == ownWorkspace { return true }
        if authorizedWorkspaces.contains(callerWorkspace) { return true }
        if let managerID, caller == "*/\(managerID)" { return true }
        if let allowedCaller, caller == allowedCaller { return true }
        return false
    }
}
