#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import MessagePack

/// Who a connection acts for (PROTOCOL.md §5.1): stamped into every message it sends.
public struct UserInfo: Sendable, Equatable {
    public var id: String
    public var roles: [String]
    public var isAnonymous: Bool
    /// Permission per workspace; the key `"*"` means every workspace.
    public var workspaces: [String: Permission]
    /// The client id a token is restricted to, if any.
    public var clientID: String?
    public var currentWorkspace: String?
    public var email: String?
    public var parent: String?
    public var expiresAt: Date?
    /// The recorded token that admitted this user (not sent to peers); revoking it disconnects them.
    public var tokenID: String?

    public init(
        id: String, roles: [String], isAnonymous: Bool, workspaces: [String: Permission], clientID: String? = nil,
        currentWorkspace: String? = nil, email: String? = nil, parent: String? = nil, expiresAt: Date? = nil,
        tokenID: String? = nil
    ) {
        self.tokenID = tokenID
        self.id = id
        self.roles = roles
        self.isAnonymous = isAnonymous
        self.workspaces = workspaces
        self.clientID = clientID
        self.currentWorkspace = currentWorkspace
        self.email = email
        self.parent = parent
        self.expiresAt = expiresAt
    }

    /// The user the manager acts as.
    public static let root = UserInfo(
        id: "root", roles: ["admin"], isAnonymous: false, workspaces: ["*": .admin])

    /// Whether this is the engine's owner (the admin token's holder: admin of every workspace), who alone creates,
    /// renames, deletes and imports workspaces, edits the repository list and installs from local paths.
    public var isEngineOwner: Bool { workspaces["*"] == .admin }

    /// The role of a worker token (`imjoy token --worker`): it may register plugin hosts in its workspace and
    /// answer the engine's calls, nothing more.
    public static let pluginHostRole = "plugin-host"

    /// Whether this user holds a worker token.
    public var isPluginHostOnly: Bool { roles.contains(Self.pluginHostRole) }

    /// The user's own workspace, `ws-user-<id>`.
    public var ownWorkspace: String { "ws-user-\(id)" }

    /// The user's permission in `workspace`, if any.
    public func permission(in workspace: String) -> Permission? {
        [workspaces[workspace], workspaces["*"]].compactMap { $0 }.max()
    }

    /// The msgpack form sent in every message's `user` field and in `connection_info`.
    public var messagePackValue: MessagePackValue {
        let scopeWorkspaces = MessagePackMap(
            workspaces.sorted { $0.key < $1.key }.map { (.string($0.key), .string($0.value.rawValue)) })
        return [
            "id": .string(id), "roles": .array(roles.map { .string($0) }), "is_anonymous": .bool(isAnonymous),
            "scope": [
                "current_workspace": currentWorkspace.map { .string($0) } ?? .nil,
                "workspaces": .map(scopeWorkspaces), "client_id": clientID.map { .string($0) } ?? .nil,
                "extra_scopes": .nil,
            ],
            "email": email.map { .string($0) } ?? .nil, "parent": parent.map { .string($0) } ?? .nil,
            "expires_at": expiresAt.map { .double($0.timeIntervalSince1970.rounded()) } ?? .nil,
            "current_workspace": currentWorkspace.map { .string($0) } ?? .nil,
        ]
    }
}
