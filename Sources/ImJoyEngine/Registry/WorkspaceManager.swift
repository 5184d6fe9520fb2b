#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import MessagePack

/// The workspaces that exist and the services registered in them.
///
/// Temporary workspaces (those of anonymous users and their guests) disappear with their last client.
actor WorkspaceManager {
    struct Workspace: Sendable {
        var name: String
        var owner: String
        var temporary: Bool
        var createdAt: Date
    }

    private var workspaces: [String: Workspace] = [:]
    /// Services by workspace, then by full id.
    private var services: [String: [String: ServiceEntry]] = [:]

    // MARK: - Workspaces

    func workspace(_ name: String) -> Workspace? { workspaces[name] }

    /// Creates `name` unless it exists.
    func ensureWorkspace(_ name: String, owner: String, temporary: Bool) {
        if workspaces[name] == nil {
            workspaces[name] = Workspace(name: name, owner: owner, temporary: temporary, createdAt: Date())
        }
    }

    /// Removes a temporary workspace if `isEmpty` still holds (checked inside the actor, after any queued
    /// handshake re-created it); returns whether it was removed.
    @discardableResult
    func removeIfTemporary(_ name: String, isEmpty: @Sendable () -> Bool) -> Bool {
        guard workspaces[name]?.temporary == true, isEmpty() else { return false }
        workspaces.removeValue(forKey: name)
        services.removeValue(forKey: name)
        return true
    }

    var workspaceNames: [String] { workspaces.keys.sorted() }

    /// Renames an (empty) workspace.
    func rename(_ name: String, to newName: String) {
        guard var workspace = workspaces.removeValue(forKey: name) else { return }
        workspace.name = newName
        workspaces[newName] = workspace
        services.removeValue(forKey: name)
    }

    /// Forgets a workspace and its services.
    func remove(_ name: String) {
        workspaces.removeValue(forKey: name)
        services.removeValue(forKey: name)
    }

    // MARK: - Services

    /// Stores `entry`, replacing a registration with the same id (re-registration after a reconnect).
    func register(_ entry: ServiceEntry, quota: Int) throws(ManagerError) {
        let existing = services[entry.workspace] ?? [:]
        if existing[entry.id] == nil {
            let count = existing.values.lazy.filter { $0.clientID == entry.clientID }.count
            if count >= quota {
                throw ManagerError(
                    "Client \(entry.providerAddress) already registered \(count) services, the limit; unregister some first")
            }
        }
        services[entry.workspace, default: [:]][entry.id] = entry
    }

    func unregister(id: String) -> ServiceEntry? {
        let workspace = String(id.prefix { $0 != "/" })
        return services[workspace]?.removeValue(forKey: id)
    }

    /// Removes every service a connection registered; returns them.
    func removeServices(ofClient address: String, connection serial: UInt64) -> [ServiceEntry] {
        let workspace = String(address.prefix { $0 != "/" })
        guard let all = services[workspace] else { return [] }
        let removed = all.values.filter { $0.providerAddress == address && $0.connection == serial }
        for entry in removed { services[workspace]?.removeValue(forKey: entry.id) }
        return removed
    }

    func entry(id: String) -> ServiceEntry? {
        let workspace = String(id.prefix { $0 != "/" })
        return services[workspace]?[id]
    }

    /// Services of `workspace` matching a client (`nil` = any), a service id (`nil` = any) and an app id.
    func find(workspace: String, clientID: String?, serviceID: String?, appID: String?) -> [ServiceEntry] {
        guard let all = services[workspace] else { return [] }
        return all.values
            .filter { entry in
                (clientID == nil || clientID == "*" || entry.clientID == clientID)
                    && (serviceID == nil || serviceID == "*" || entry.serviceID == serviceID)
                    && (appID == nil || appID == "*" || entry.appID == appID)
            }
            .sorted { $0.id < $1.id }
    }

    /// Every workspace's services (for queries across workspaces).
    func allEntries() -> [ServiceEntry] {
        services.values.flatMap(\.values).sorted { $0.id < $1.id }
    }
}
