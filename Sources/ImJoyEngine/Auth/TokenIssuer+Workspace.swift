#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension TokenIssuer {
    /// Issues and records a token that admits a new user to `workspace` with `permission` (what
    /// `generate_token` and `imjoy token` hand out); it can be listed and revoked by its id.
    /// - Parameter issuer: the user asking; the new user inherits their roles (minus admin) as a child.
    public func issueWorkspaceToken(
        workspace: String, permission: Permission, lifetime: Duration, label: String, issuer: UserInfo,
        clientID: String? = nil, email: String? = nil, store: EngineStore
    ) async throws -> (token: String, id: String) {
        let childID = ReadableName.make()
        let tokenID = UUID().uuidString.lowercased()
        let child = UserInfo(
            id: childID, roles: issuer.roles.filter { $0 != "admin" }, isAnonymous: issuer.isAnonymous,
            workspaces: [workspace: permission, "ws-user-\(childID)": .admin], email: email,
            parent: issuer.parent ?? issuer.id, tokenID: tokenID)
        let now = Date()
        try await store.recordToken(
            TokenRecord(
                id: tokenID, workspace: workspace, permission: permission.name, label: label, issuedBy: issuer.id,
                issuedAt: now, expiresAt: now.addingTimeInterval(lifetime.seconds)))
        let token = try await issue(
            for: child, kind: .access, workspace: workspace, clientID: clientID, lifetime: lifetime, issuedAt: now)
        return (token, tokenID)
    }
}
