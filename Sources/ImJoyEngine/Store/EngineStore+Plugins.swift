#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import Crypto
import GRDB

/// An installed plugin: its source text (so a workspace works offline) and where it came from.
public struct InstalledPluginRecord: Sendable, Equatable {
    public var workspace: String
    /// The plugin's id (its name with spaces as `_`); unique in a workspace.
    public var id: String
    public var name: String
    public var version: String
    public var type: String
    /// The tag chosen at install time, if the plugin has tags.
    public var tag: String?
    /// The URI it was installed from (without `@TAG`), used for updates and sharing.
    public var origin: String?
    public var source: String
    /// SHA-256 of `source`, hex.
    public var hash: String
    public var enabled: Bool
    public var installedAt: Date
    public var updatedAt: Date

    public init(
        workspace: String, id: String, name: String, version: String, type: String, tag: String?, origin: String?,
        source: String, enabled: Bool = true, installedAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.workspace = workspace
        self.id = id
        self.name = name
        self.version = version
        self.type = type
        self.tag = tag
        self.origin = origin
        self.source = source
        self.hash = SHA256.hash(data: Data(source.utf8)).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        self.enabled = enabled
        self.installedAt = installedAt
        self.updatedAt = updatedAt
    }

    init(row: Row) {
        workspace = row["workspace"]
        id = row["id"]
        name = row["name"]
        version = row["version"]
        type = row["type"]
        tag = row["tag"]
        origin = row["origin"]
        source = row["source"]
        hash = row["hash"]
        enabled = row["enabled"]
        installedAt = Date(timeIntervalSince1970: row["installed_at"])
        updatedAt = Date(timeIntervalSince1970: row["updated_at"])
    }
}

extension EngineStore {
    /// Installs `plugins` into their workspace in one transaction (a plugin and its dependencies arrive
    /// together or not at all). A plugin with the same id is replaced and keeps its first install time.
    public func install(_ plugins: [InstalledPluginRecord], owner: String, temporary: Bool) async throws(StoreError) {
        try await write { db in
            for plugin in plugins {
                try self.ensureWorkspaceRow(plugin.workspace, owner: owner, temporary: temporary, db)
                try db.execute(
                    sql: """
                        INSERT INTO plugin (workspace, id, name, version, type, tag, origin, source, hash, enabled,
                                            installed_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (workspace, id) DO UPDATE SET
                            name = excluded.name, version = excluded.version, type = excluded.type, tag = excluded.tag,
                            origin = excluded.origin, source = excluded.source, hash = excluded.hash,
                            enabled = excluded.enabled, updated_at = excluded.updated_at
                        """,
                    arguments: [
                        plugin.workspace, plugin.id, plugin.name, plugin.version, plugin.type, plugin.tag,
                        plugin.origin, plugin.source, plugin.hash, plugin.enabled,
                        plugin.installedAt.timeIntervalSince1970, plugin.updatedAt.timeIntervalSince1970,
                    ])
            }
        }
    }

    /// The plugins installed in `workspace`, by name.
    public func plugins(in workspace: String) async throws(StoreError) -> [InstalledPluginRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM plugin WHERE workspace = ? ORDER BY name", arguments: [workspace])
                .map(InstalledPluginRecord.init(row:))
        }
    }

    /// The plugin of `workspace` whose id or name is `name` (case-insensitive as a fallback).
    public func plugin(_ name: String, in workspace: String) async throws(StoreError) -> InstalledPluginRecord? {
        try await read { db in
            let exact = try Row.fetchOne(
                db, sql: "SELECT * FROM plugin WHERE workspace = ? AND (id = ? OR name = ?)",
                arguments: [workspace, name, name])
            let row = try exact
                ?? Row.fetchOne(
                    db, sql: "SELECT * FROM plugin WHERE workspace = ? AND (lower(id) = lower(?) OR lower(name) = lower(?))",
                    arguments: [workspace, name, name])
            return row.map(InstalledPluginRecord.init(row:))
        }
    }

    /// Removes a plugin and its settings; returns whether it was installed.
    @discardableResult
    public func uninstall(_ id: String, in workspace: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM plugin WHERE workspace = ? AND id = ?", arguments: [workspace, id])
            let removed = db.changesCount > 0
            try db.execute(sql: "DELETE FROM plugin_config WHERE workspace = ? AND plugin = ?", arguments: [workspace, id])
            return removed
        }
    }

    /// Enables or disables an installed plugin.
    public func setEnabled(_ enabled: Bool, plugin id: String, in workspace: String) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE plugin SET enabled = ?, updated_at = ? WHERE workspace = ? AND id = ?",
                arguments: [enabled, Date().timeIntervalSince1970, workspace, id])
            guard db.changesCount == 1 else {
                throw StoreError("No plugin '\(id)' is installed in workspace \(workspace)")
            }
        }
    }
}
