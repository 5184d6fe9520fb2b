#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import GRDB

/// A workspace as the store keeps it.
public struct WorkspaceRecord: Sendable, Equatable {
    public var name: String
    public var description: String
    public var owner: String
    /// Temporary workspaces (anonymous users') are dropped when their last client leaves and at every start.
    public var temporary: Bool
    /// Free-form settings as JSON text.
    public var settings: String
    public var createdAt: Date

    public init(
        name: String, description: String = "", owner: String, temporary: Bool = false, settings: String = "{}",
        createdAt: Date = Date()
    ) {
        self.name = name
        self.description = description
        self.owner = owner
        self.temporary = temporary
        self.settings = settings
        self.createdAt = createdAt
    }

    init(row: Row) {
        self.init(
            name: row["name"], description: row["description"], owner: row["owner"], temporary: row["temporary"],
            settings: row["settings"], createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }
}

extension EngineStore {
    /// Every workspace, temporary ones included, by name.
    public func workspaces() async throws(StoreError) -> [WorkspaceRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM workspace ORDER BY name").map(WorkspaceRecord.init(row:))
        }
    }

    /// The workspace called `name`, if stored.
    public func workspace(_ name: String) async throws(StoreError) -> WorkspaceRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM workspace WHERE name = ?", arguments: [name])
                .map(WorkspaceRecord.init(row:))
        }
    }

    /// Stores a new workspace.
    /// - Throws: ``StoreError`` when one with that name exists.
    public func createWorkspace(_ record: WorkspaceRecord) async throws(StoreError) {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM workspace WHERE name = ?", arguments: [record.name]) == true {
                throw StoreError("Workspace \(record.name) already exists; pick another name or delete it first")
            }
            try Self.insert(record, db)
        }
    }

    /// Creates `name` as a temporary workspace unless it is stored already (called before the first thing is
    /// saved into an anonymous user's workspace).
    func ensureWorkspaceRow(_ name: String, owner: String, temporary: Bool, _ db: Database) throws {
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM workspace WHERE name = ?", arguments: [name]) != true {
            try Self.insert(WorkspaceRecord(name: name, owner: owner, temporary: temporary), db)
        }
    }

    private static func insert(_ record: WorkspaceRecord, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO workspace (name, description, owner, temporary, settings, created_at)
                VALUES (?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                record.name, record.description, record.owner, record.temporary, record.settings,
                record.createdAt.timeIntervalSince1970,
            ])
    }

    /// Renames a workspace; its plugins, settings, workflows and layout move with it.
    public func renameWorkspace(_ name: String, to newName: String) async throws(StoreError) {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM workspace WHERE name = ?", arguments: [name]) == true else {
                throw StoreError("Workspace \(name) does not exist")
            }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM workspace WHERE name = ?", arguments: [newName]) == true {
                throw StoreError("Workspace \(newName) already exists; pick another name")
            }
            try db.execute(sql: "UPDATE workspace SET name = ? WHERE name = ?", arguments: [newName, name])
            try db.execute(sql: "UPDATE token SET workspace = ? WHERE workspace = ?", arguments: [newName, name])
        }
    }

    /// Changes a workspace's description and settings (JSON text); `nil` leaves a field as it is.
    public func updateWorkspace(_ name: String, description: String?, settings: String?) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE workspace SET description = coalesce(?, description), settings = coalesce(?, settings)
                    WHERE name = ?
                    """,
                arguments: [description, settings, name])
            guard db.changesCount == 1 else { throw StoreError("Workspace \(name) does not exist") }
        }
    }

    /// Deletes a workspace and everything in it; returns whether it existed.
    @discardableResult
    public func deleteWorkspace(_ name: String) async throws(StoreError) -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM workspace WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    /// Drops every temporary workspace (left over from the previous run); returns how many.
    @discardableResult
    public func deleteTemporaryWorkspaces() async throws(StoreError) -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM workspace WHERE temporary = 1")
            return db.changesCount
        }
    }

    /// The saved window layout of a workspace (JSON text), if any.
    public func layout(of workspace: String) async throws(StoreError) -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT layout FROM workspace WHERE name = ?", arguments: [workspace])
        }
    }

    /// Saves the window layout of a workspace (JSON text).
    public func setLayout(_ layout: String?, of workspace: String, owner: String, temporary: Bool) async throws(StoreError) {
        try await write { db in
            try self.ensureWorkspaceRow(workspace, owner: owner, temporary: temporary, db)
            try db.execute(sql: "UPDATE workspace SET layout = ? WHERE name = ?", arguments: [layout, workspace])
        }
    }
}
