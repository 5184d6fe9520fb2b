#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import GRDB

/// The engine's persistent state: one SQLite database in WAL mode (`<data dir>/imjoy.sqlite`) holding
/// workspaces, installed plugins, plugin settings, workflows, window layouts, repositories and issued tokens.
///
/// Every method is one transaction, so a crash at any moment leaves either the whole change or none of it.
public final class EngineStore: Sendable {
    let pool: DatabasePool
    /// Where the database lives.
    public let url: URL

    private init(pool: DatabasePool, url: URL) {
        self.pool = pool
        self.url = url
    }

    /// Opens (creating and migrating if needed) the database at `url`.
    /// - Throws: ``StoreError`` naming the file and what to do when it cannot be opened or migrated.
    public static func open(at url: URL) throws(StoreError) -> EngineStore {
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            let pool = try DatabasePool(path: url.path, configuration: configuration)
            // Plugin sources and token records are the owner's business only.
            try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
            try StoreMigrations.migrator.migrate(pool)
            return EngineStore(pool: pool, url: url)
        } catch let error as DatabaseError {
            throw StoreError(
                "Cannot open the engine database \(url.path): \(error.message ?? "\(error)"). If another program "
                    + "holds it, stop that program; if the file is damaged, move it away (the engine starts empty)")
        } catch {
            throw StoreError("Cannot open the engine database \(url.path): \(error)")
        }
    }

    /// Runs `body` in one write transaction.
    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.write(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("The engine database refused a change: \(error)")
        }
    }

    /// Runs `body` on a read-only snapshot.
    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreError) -> T {
        do {
            return try await pool.read(body)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("The engine database could not be read: \(error)")
        }
    }

    /// SQLite's own consistency check; `["ok"]` when the file is sound.
    public func integrityCheck() async throws(StoreError) -> [String] {
        try await read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}

/// Why the store refused an operation; `message` says what and how to fix it.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
