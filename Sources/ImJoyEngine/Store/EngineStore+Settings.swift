#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import GRDB

/// A saved workflow: its definition as JSON text.
public struct WorkflowRecord: Sendable, Equatable {
    public var name: String
    public var definition: String
    public var savedAt: Date

    public init(name: String, definition: String, savedAt: Date = Date()) {
        self.name = name
        self.definition = definition
        self.savedAt = savedAt
    }
}

/// A plugin repository users install from (a `manifest.imjoy.json`).
public struct RepositoryRecord: Sendable, Equatable {
    public var url: String
    public var name: String
    public var description: String

    public init(url: String, name: String, description: String = "") {
        self.url = url
        self.name = name
        self.description = description
    }
}

extension EngineStore {
    // MARK: - Plugin settings (getConfig / setConfig)

    /// The settings a plugin saved in `workspace`, as JSON text per key.
    public func config(of plugin: String, in workspace: String) async throws(StoreError) -> [String: String] {
        try await read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT key, value FROM plugin_config WHERE workspace = ? AND plugin = ?",
                arguments: [workspace, plugin])
            return Dictionary(rows.map { ($0["key"], $0["value"]) }, uniquingKeysWith: { _, last in last })
        }
    }

    /// Saves settings (JSON text per key; `nil` removes the key) in one transaction.
    public func setConfig(
        _ values: [String: String?], of plugin: String, in workspace: String, owner: String, temporary: Bool
    ) async throws(StoreError) {
        try await write { db in
            try self.ensureWorkspaceRow(workspace, owner: owner, temporary: temporary, db)
            for (key, value) in values {
                if let value {
                    try db.execute(
                        sql: """
                            INSERT INTO plugin_config (workspace, plugin, key, value) VALUES (?, ?, ?, ?)
                            ON CONFLICT (workspace, plugin, key) DO UPDATE SET value = excluded.value
                            """,
                        arguments: [workspace, plugin, key, value])
                } else {
                    try db.execute(
                        sql: "DELETE FROM plugin_config WHERE workspace = ? AND plugin = ? AND key = ?",
                        arguments: [workspace, plugin, key])
                }
            }
        }
    }

    /// Every setting of every plugin in `workspace`: plugin → key → JSON text.
    public func allConfig(in workspace: String) async throws(StoreError) -> [String: [String: String]] {
        try await read { db in
            var result: [String: [String: String]] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT plugin, key, value FROM plugin_config WHERE workspace = ?", arguments: [workspace])
            {
                result[row["plugin"], default: [:]][row["key"]] = row["value"]
            }
            return result
        }
    }

    // MARK: - Workflows

    /// The workflows saved in `workspace`, by name.
    public func workflows(in workspace: String) async throws(StoreError) -> [WorkflowRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT name, definition, saved_at FROM workflow WHERE workspace = ? ORDER BY name",
                arguments: [workspace]
            ).map { WorkflowRecord(name: $0["name"], definition: $0["definition"], savedAt: Date(timeIntervalSince1970: $0["saved_at"])) }
        }
    }

    /// Saves (or replaces) a workflow.
    public func saveWorkflow(_ workflow: WorkflowRecord, in workspace: String, owner: String, temporary: Bool) async throws(StoreError) {
        try await write { db in
            try self.ensureWorkspaceRow(workspace, owner: owner, temporary: temporary, db)
            try db.execute(
                sql: """
                    INSERT INTO workflow (workspace, name, definition, saved_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (workspace, name) DO UPDATE SET definition = excluded.definition, saved_at = excluded.saved_at
                    """,
                arguments: [workspace, workflow.name, workflow.definition, workflow.savedAt.timeIntervalSince1970])
        }
    }

    /// Removes a workflow; returns whether it existed.
    @discardableResult
    public func removeWorkflow(_ name: String, in workspace: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM workflow WHERE workspace = ? AND name = ?", arguments: [workspace, name])
            return db.changesCount > 0
        }
    }

    // MARK: - Repositories

    /// The plugin repositories users added, by name.
    public func repositories() async throws(StoreError) -> [RepositoryRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT url, name, description FROM repository ORDER BY added_at").map {
                RepositoryRecord(url: $0["url"], name: $0["name"], description: $0["description"])
            }
        }
    }

    /// Adds a repository (the same URL is never added twice: it is updated instead).
    public func addRepository(_ repository: RepositoryRecord) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO repository (url, name, description, added_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (url) DO UPDATE SET name = excluded.name, description = excluded.description
                    """,
                arguments: [repository.url, repository.name, repository.description, Date().timeIntervalSince1970])
        }
    }

    /// Removes a repository by URL or name; returns whether one was removed.
    @discardableResult
    public func removeRepository(_ urlOrName: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM repository WHERE url = ? OR name = ?", arguments: [urlOrName, urlOrName])
            return db.changesCount > 0
        }
    }
}
