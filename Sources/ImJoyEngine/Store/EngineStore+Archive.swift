#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import GRDB

/// Everything a workspace holds, for export to one file and import from it.
public struct WorkspaceArchive: Sendable {
    public var workspace: WorkspaceRecord
    public var plugins: [InstalledPluginRecord]
    /// Plugin → key → JSON text.
    public var config: [String: [String: String]]
    public var workflows: [WorkflowRecord]
    /// JSON text.
    public var layout: String?

    public init(
        workspace: WorkspaceRecord, plugins: [InstalledPluginRecord], config: [String: [String: String]],
        workflows: [WorkflowRecord], layout: String?
    ) {
        self.workspace = workspace
        self.plugins = plugins
        self.config = config
        self.workflows = workflows
        self.layout = layout
    }
}

extension EngineStore {
    /// Reads a whole workspace from one snapshot.
    public func archive(of name: String) async throws(StoreError) -> WorkspaceArchive {
        try await read { db in
            guard let workspace = try Row.fetchOne(db, sql: "SELECT * FROM workspace WHERE name = ?", arguments: [name])
            else {
                throw StoreError("Workspace \(name) has nothing stored yet")
            }
            let plugins = try Row.fetchAll(
                db, sql: "SELECT * FROM plugin WHERE workspace = ? ORDER BY name", arguments: [name]
            ).map(InstalledPluginRecord.init(row:))
            var config: [String: [String: String]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT plugin, key, value FROM plugin_config WHERE workspace = ?", arguments: [name])
            {
                config[row["plugin"], default: [:]][row["key"]] = row["value"]
            }
            let workflows = try Row.fetchAll(
                db, sql: "SELECT name, definition, saved_at FROM workflow WHERE workspace = ? ORDER BY name",
                arguments: [name]
            ).map { WorkflowRecord(name: $0["name"], definition: $0["definition"], savedAt: Date(timeIntervalSince1970: $0["saved_at"])) }
            return WorkspaceArchive(
                workspace: WorkspaceRecord(row: workspace), plugins: plugins, config: config, workflows: workflows,
                layout: workspace["layout"])
        }
    }

    /// Creates a workspace from an archive in one transaction.
    /// - Throws: ``StoreError`` when a workspace with that name exists.
    public func importArchive(_ archive: WorkspaceArchive) async throws(StoreError) {
        try await write { db in
            let name = archive.workspace.name
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM workspace WHERE name = ?", arguments: [name]) == true {
                throw StoreError("Workspace \(name) already exists; import under another name or delete it first")
            }
            let record = archive.workspace
            try db.execute(
                sql: """
                    INSERT INTO workspace (name, description, owner, temporary, settings, layout, created_at)
                    VALUES (?, ?, ?, 0, ?, ?, ?)
                    """,
                arguments: [
                    name, record.description, record.owner, record.settings, archive.layout,
                    Date().timeIntervalSince1970,
                ])
            for plugin in archive.plugins {
                try db.execute(
                    sql: """
                        INSERT INTO plugin (workspace, id, name, version, type, tag, origin, source, hash, enabled,
                                            installed_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        name, plugin.id, plugin.name, plugin.version, plugin.type, plugin.tag, plugin.origin,
                        plugin.source, plugin.hash, plugin.enabled, plugin.installedAt.timeIntervalSince1970,
                        plugin.updatedAt.timeIntervalSince1970,
                    ])
            }
            for (plugin, values) in archive.config {
                for (key, value) in values {
                    try db.execute(
                        sql: "INSERT INTO plugin_config (workspace, plugin, key, value) VALUES (?, ?, ?, ?)",
                        arguments: [name, plugin, key, value])
                }
            }
            for workflow in archive.workflows {
                try db.execute(
                    sql: "INSERT INTO workflow (workspace, name, definition, saved_at) VALUES (?, ?, ?, ?)",
                    arguments: [name, workflow.name, workflow.definition, workflow.savedAt.timeIntervalSince1970])
            }
        }
    }
}
