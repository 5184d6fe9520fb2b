#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension TokenIssuer {
    /// Issues and records a worker token (`imjoy token --worker`): it lets an `imjoy worker` register plugin
    /// hosts in `workspace` and answer the engine's calls, and nothing else (no reading or calling services, no
    /// installing). Revoking it disconnects the worker.
    public func issueWorkerToken(
        workspace: String, lifetime: Duration, label: String, issuer: UserInfo, store: EngineStore
    ) async throws -> (token: String, id: String) {
        let tokenID = UUID().uuidString.lowercased()
        let worker = UserInfo(
            id: "worker-" + ReadableName.make(), roles: [UserInfo.pluginHostRole], isAnonymous: false,
            workspaces: [workspace: .readWrite], parent: issuer.parent ?? issuer.id, tokenID: tokenID)
        let now = Date()
        try await store.recordToken(
            TokenRecord(
                id: tokenID, workspace: workspace, permission: UserInfo.pluginHostRole,
                label: label.isEmpty ? "worker" : label, issuedBy: issuer.id, issuedAt: now,
                expiresAt: now.addingTimeInterval(lifetime.seconds)))
        let token = try await issue(
            for: worker, kind: .access, workspace: workspace, clientID: nil, lifetime: lifetime, issuedAt: now)
        return (token, tokenID)
    }
}
