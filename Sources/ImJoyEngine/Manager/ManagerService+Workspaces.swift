#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC
import Logging
import MessagePack

/// Workspaces and tokens: the manager methods beyond Hypha's core set that keep the engine's persistent state.
extension ManagerService {
    /// Names that cannot be given to a persistent workspace.
    static func workspaceNameProblem(_ name: String) -> String? {
        if name.isEmpty || name.count > 64 { return "a workspace name has 1 to 64 characters" }
        if !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            return "a workspace name may only contain letters, digits, '-' and '_'"
        }
        if name == "public" || name.hasPrefix("ws-user-") || name.hasPrefix("ws-anon") {
            return "'public' and names starting with 'ws-user-' or 'ws-anon' are reserved"
        }
        return nil
    }

    private func requireOwner(_ caller: ClientConnection, to action: String) throws {
        guard caller.user.isEngineOwner else {
            throw ManagerError(
                "Permission denied: \(action) needs the engine owner's admin token (in the data directory's "
                    + "admin-token file, and in the URL `imjoy serve` printed); a workspace token is not enough")
        }
    }

    func listWorkspaces(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        let stored = try await engine.store.workspaces()
        var rows: [RPCValue] = []
        for record in stored where !record.temporary && caller.user.permission(in: record.name) != nil {
            rows.append(Self.describe(record))
        }
        if !stored.contains(where: { $0.name == caller.workspace && !$0.temporary }) {
            rows.append(
                .object([
                    "name": .string(caller.workspace), "description": "", "persistent": false,
                    "owner": .string(await engine.workspaces.workspace(caller.workspace)?.owner ?? caller.user.id),
                ]))
        }
        return .array(rows)
    }

    func createWorkspace(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        try requireOwner(caller, to: "creating a workspace")
        let config = call.argument(0, "config")
        guard let name = config?.stringValue ?? config?["name"]?.stringValue else {
            throw ManagerError("create_workspace needs a name: create_workspace({\"name\": \"my-project\"})")
        }
        if let problem = Self.workspaceNameProblem(name) {
            throw ManagerError("Invalid workspace name '\(name.prefix(80))': \(problem)")
        }
        let overwrite = call.argument(1, "overwrite")?.boolValue ?? false
        if await engine.workspaces.workspace(name) != nil {
            guard overwrite else {
                throw ManagerError("Workspace \(name) already exists; pick another name, or pass overwrite=True to keep it")
            }
            return Self.describe(try await engine.store.workspace(name) ?? WorkspaceRecord(name: name, owner: caller.user.id))
        }
        let record = WorkspaceRecord(
            name: name, description: config?["description"]?.stringValue ?? "", owner: caller.user.id,
            settings: config?["settings"].map { JSONText.encode(ValueCodec.encodePlain($0)) } ?? "{}")
        try await engine.store.createWorkspace(record)
        await engine.workspaces.ensureWorkspace(name, owner: caller.user.id, temporary: false)
        logger.info("Workspace created", metadata: ["workspace.id": "\(name)"])
        return Self.describe(record)
    }

    func deleteWorkspace(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        try requireOwner(caller, to: "deleting a workspace")
        guard let name = call.argument(0, "workspace")?.stringValue else {
            throw ManagerError("delete_workspace needs the workspace name")
        }
        guard try await engine.store.workspace(name) != nil else {
            throw ManagerError("Workspace \(name) does not exist (list_workspaces shows the ones that do)")
        }
        try await engine.deleteWorkspace(name)
        return .null
    }

    func renameWorkspace(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        try requireOwner(caller, to: "renaming a workspace")
        guard let name = call.argument(0, "workspace")?.stringValue, let newName = call.argument(1, "new_name")?.stringValue
        else {
            throw ManagerError("rename_workspace needs the workspace and its new name")
        }
        if let problem = Self.workspaceNameProblem(newName) {
            throw ManagerError("Invalid workspace name '\(newName.prefix(80))': \(problem)")
        }
        let connected = engine.table.connections(in: name)
        guard connected.isEmpty else {
            throw ManagerError(
                "Workspace \(name) has \(connected.count) connected client(s) (\(connected.prefix(3).map(\.clientID).joined(separator: ", "))); "
                    + "they must leave (and its plugins stop) before it can be renamed")
        }
        try await engine.store.renameWorkspace(name, to: newName)
        await engine.workspaces.rename(name, to: newName)
        return .null
    }

    func getWorkspaceInfo(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        let name = call.argument(0, "workspace")?.stringValue ?? caller.workspace
        guard caller.user.permission(in: name) != nil else {
            throw ManagerError("Permission denied: you have no permission in workspace \(name); ask its owner for a token")
        }
        guard let record = try await engine.store.workspace(name) else {
            guard let live = await engine.workspaces.workspace(name) else {
                throw ManagerError("Workspace \(name) does not exist")
            }
            return .object(["name": .string(name), "owner": .string(live.owner), "persistent": false, "plugins": 0])
        }
        guard case .object(var object) = Self.describe(record) else { return .null }
        object["plugins"] = .int(Int64(try await engine.store.plugins(in: name).count))
        object["workflows"] = .int(Int64(try await engine.store.workflows(in: name).count))
        return .object(object)
    }

    static func describe(_ record: WorkspaceRecord) -> RPCValue {
        .object([
            "name": .string(record.name), "description": .string(record.description), "owner": .string(record.owner),
            "persistent": .bool(!record.temporary), "created_at": .double(record.createdAt.timeIntervalSince1970),
            "settings": .encoded(JSONText.value(from: record.settings) ?? [:]),
        ])
    }

    // MARK: - Tokens

    func revokeToken(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        guard let text = call.argument(0, "token")?.stringValue, !text.isEmpty else {
            throw ManagerError("revoke_token needs a token, or a token id from list_tokens")
        }
        var id = text
        if text.split(separator: ".").count == 3 {
            do {
                guard let tokenID = try await engine.tokens.verify(text, as: .access).tokenID else {
                    throw ManagerError("This token has no id (a plugin's or a connection's token); it cannot be revoked")
                }
                id = tokenID
            } catch let error as AuthError {
                throw ManagerError("Cannot revoke this token: \(error.message)")
            }
        }
        guard let record = try await engine.store.token(id) else {
            throw ManagerError("No token with id \(id.prefix(64)) was issued by this engine (list_tokens shows them)")
        }
        guard caller.user.permission(in: record.workspace) == .admin else {
            throw ManagerError(
                "Permission denied: revoking a token of \(record.workspace) needs admin permission in that workspace")
        }
        _ = try await engine.store.revokeToken(id)
        let dropped = engine.disconnectHolders(ofToken: id)
        logger.info("Token revoked", metadata: ["token.id": "\(id)", "disconnected": "\(dropped)"])
        return .object(["id": .string(id), "disconnected": .int(Int64(dropped))])
    }

    func listTokens(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        let workspace = call.argument(0, "workspace")?.stringValue ?? caller.workspace
        guard caller.user.permission(in: workspace) == .admin else {
            throw ManagerError("Permission denied: listing the tokens of \(workspace) needs admin permission in it")
        }
        return .array(
            try await engine.store.tokens(in: workspace).map { record in
                .object([
                    "id": .string(record.id), "workspace": .string(record.workspace),
                    "permission": .string(record.permission), "label": .string(record.label),
                    "issued_by": .string(record.issuedBy), "issued_at": .double(record.issuedAt.timeIntervalSince1970),
                    "expires_at": .double(record.expiresAt.timeIntervalSince1970),
                    "revoked": .bool(record.revokedAt != nil),
                ])
            })
    }
}
