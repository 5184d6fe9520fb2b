#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import GRDB

/// A token the engine issued (the token text itself is never stored), kept so it can be listed and revoked.
public struct TokenRecord: Sendable, Equatable {
    /// The token's `jti` claim.
    public var id: String
    public var workspace: String
    public var permission: String
    /// What the token is for, as its issuer described it.
    public var label: String
    public var issuedBy: String
    public var issuedAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?

    public init(
        id: String, workspace: String, permission: String, label: String, issuedBy: String, issuedAt: Date,
        expiresAt: Date, revokedAt: Date? = nil
    ) {
        self.id = id
        self.workspace = workspace
        self.permission = permission
        self.label = label
        self.issuedBy = issuedBy
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
    }

    init(row: Row) {
        self.init(
            id: row["id"], workspace: row["workspace"], permission: row["permission"], label: row["label"],
            issuedBy: row["issued_by"], issuedAt: Date(timeIntervalSince1970: row["issued_at"]),
            expiresAt: Date(timeIntervalSince1970: row["expires_at"]),
            revokedAt: (row["revoked_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }
}

extension EngineStore {
    /// Records an issued token (expired records older than a week are dropped on the way).
    public func recordToken(_ token: TokenRecord) async throws(StoreError) {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM token WHERE expires_at < ?", arguments: [Date().timeIntervalSince1970 - 7 * 86_400])
            try db.execute(
                sql: """
                    INSERT INTO token (id, workspace, permission, label, issued_by, issued_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    token.id, token.workspace, token.permission, token.label, token.issuedBy,
                    token.issuedAt.timeIntervalSince1970, token.expiresAt.timeIntervalSince1970,
                ])
        }
    }

    /// The tokens issued for `workspace` (every workspace when `nil`) that have not expired, newest first.
    public func tokens(in workspace: String?) async throws(StoreError) -> [TokenRecord] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM token WHERE (? IS NULL OR workspace = ?) AND expires_at > ? ORDER BY issued_at DESC
                    """,
                arguments: [workspace, workspace, Date().timeIntervalSince1970]
            ).map(TokenRecord.init(row:))
        }
    }

    /// The record of token `id`, if it was issued here.
    public func token(_ id: String) async throws(StoreError) -> TokenRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM token WHERE id = ?", arguments: [id]).map(TokenRecord.init(row:))
        }
    }

    /// Marks a token revoked; returns its record (`nil` when no such token was issued).
    public func revokeToken(_ id: String) async throws(StoreError) -> TokenRecord? {
        try await write { db in
            try db.execute(
                sql: "UPDATE token SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                arguments: [Date().timeIntervalSince1970, id])
            return try Row.fetchOne(db, sql: "SELECT * FROM token WHERE id = ?", arguments: [id]).map(TokenRecord.init(row:))
        }
    }
}
