#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC
import Logging
import MessagePack

extension Engine {
    /// Authenticates a new socket from its first text frame and registers it.
    /// - Returns: the connection and its `connection_info` text frame, which is already queued on `sink`.
    /// - Throws: ``HandshakeError``; send its message as `{"type":"error"}` and close with its code.
    /// - Parameter remoteHost: the peer's address, for limiting failed authentications per host.
    public func connect(authFrame: String, sink: any ConnectionSink, remoteHost: String? = nil) async throws(HandshakeError)
        -> (connection: ClientConnection, connectionInfo: String)
    {
        let request = try AuthRequest.parse(authFrame)
        let host = remoteHost ?? "unknown"
        if let wait = authFailures.waitTime(for: host) {
            throw HandshakeError(
                "Authentication error: too many failed authentications from \(host); wait \(wait) s before trying again",
                closeCode: 1008)
        }
        var (user, workspace, isReconnection, issuedAt): (UserInfo, String, Bool, Date?)
        do {
            (user, workspace, isReconnection, issuedAt) = try await identify(request)
        } catch {
            if error.isAuthenticationFailure {
                authFailures.recordFailure(from: host)
                logger.warning(
                    "Authentication failed",
                    metadata: ["remote": "\(host)", "client.id": "\(request.clientID)", "reason": "\(error.message)"])
            }
            throw error
        }
        guard user.permission(in: workspace) != nil else {
            throw HandshakeError(
                "Failed to establish connection: Permission denied for workspace: \(workspace)", closeCode: 1008)
        }
        if workspace == user.ownWorkspace {
            await workspaces.ensureWorkspace(workspace, owner: user.id, temporary: true)
        } else if await workspaces.workspace(workspace) == nil {
            throw HandshakeError(
                "Failed to establish connection: workspace \(workspace) does not exist (create it with "
                    + "create_workspace or `imjoy workspace create \(workspace)`; temporary workspaces are removed "
                    + "when their last client leaves)", closeCode: 1008)
        }
        user.currentWorkspace = workspace
        let address = "\(workspace)/\(request.clientID)"
        var displaced: ClientConnection?
        if let existing = table.connection(at: address) {
            if isReconnection {
                if let issued = issuedAt, issued < existing.connectedAt.addingTimeInterval(-1) {
                    throw HandshakeError(
                        "Failed to establish connection: \(address) was taken over by a newer connection; "
                            + "connect again without the old reconnection token", closeCode: 1008)
                }
            } else if await isAlive(existing) {
                throw HandshakeError(
                    "Failed to establish connection: Client already exists and is active: \(address) "
                        + "(use another client_id, or reconnect with the reconnection token)", closeCode: 1008)
            }
            displaced = existing
        }
        let token: String
        do {
            token = try await reconnectionToken(for: user, workspace: workspace, clientID: request.clientID)
        } catch {
            throw HandshakeError("Failed to establish connection: could not issue a token (\(error))", closeCode: 1011)
        }
        let info: MessagePackValue = [
            "type": "connection_info", "hypha_version": "0.21.137", "imjoy_version": "0.1.0",
            "public_base_url": .string(publicBaseURL),
            "local_base_url": .string(publicBaseURL),
            "manager_id": .string(configuration.managerID), "workspace": .string(workspace),
            "client_id": .string(request.clientID), "user": user.messagePackValue,
            "reconnection_token": .string(token),
            "reconnection_token_life_time": .double(configuration.reconnectionTokenLifetime.seconds),
        ]
        let infoText = JSONText.encode(info)
        let connection = ClientConnection(
            serial: table.nextSerial(), workspace: workspace, clientID: request.clientID, user: user, sink: sink,
            callTracker: supervisedPlugins.tracker(for: address))
        // connection_info must be the first frame the client gets: queue it before others can route to us.
        sink.send(.text(infoText))
        guard table.insert(connection, replacing: displaced) else {
            throw HandshakeError(
                "Failed to establish connection: another connection for \(address) was accepted at the same time",
                closeCode: 1008)
        }
        if let displaced {
            logger.info("Connection superseded", metadata: ["peer.id": "\(address)"])
            displaced.sink.close(code: 1000, reason: "Superseded by a new connection of the same client")
        }
        if workspace == user.ownWorkspace {
            await workspaces.ensureWorkspace(workspace, owner: user.id, temporary: true)
        }
        logger.info(
            "Client connected",
            metadata: ["peer.id": "\(address)", "reconnection": "\(isReconnection)", "user.id": "\(user.id)"])
        return (connection, infoText)
    }

    /// Works out who connects and where: from a reconnection token, a token, or as a new anonymous user.
    private func identify(_ request: AuthRequest) async throws(HandshakeError) -> (UserInfo, String, Bool, Date?) {
        if let reconnectionToken = request.reconnectionToken {
            let grant = try await verify(reconnectionToken, as: .reconnection)
            guard grant.clientID == request.clientID else {
                throw HandshakeError(
                    "Failed to establish connection: Failed to authenticate user: Client id mismatch: the reconnection "
                        + "token belongs to client '\(grant.clientID ?? "?")', not '\(request.clientID)'", closeCode: 1008)
            }
            guard let workspace = grant.workspace, request.workspace == nil || request.workspace == workspace else {
                throw HandshakeError(
                    "Failed to establish connection: the reconnection token is for workspace "
                        + "\(grant.workspace ?? "?"), not \(request.workspace ?? "?")", closeCode: 1008)
            }
            try await checkNotRevoked(grant.tokenID)
            return (grant.user, workspace, true, grant.issuedAt)
        }
        if let token = request.token, admin.matches(token) {
            return (AdminToken.owner, request.workspace ?? EngineConfiguration.defaultWorkspace, false, nil)
        }
        if let token = request.token {
            let grant = try await verify(token, as: .access)
            try await checkNotRevoked(grant.tokenID)
            if let clientID = grant.clientID, clientID != request.clientID {
                throw HandshakeError(
                    "Authentication error: the token may only be used by client '\(clientID)'", closeCode: 1008)
            }
            if let wid = grant.workspace, let requested = request.workspace, requested != wid {
                throw HandshakeError(
                    "Failed to establish connection: the token is for workspace \(wid), not \(requested)",
                    closeCode: 1008)
            }
            return (grant.user, request.workspace ?? grant.workspace ?? grant.user.ownWorkspace, false, grant.issuedAt)
        }
        guard configuration.allowsAnonymous else {
            throw HandshakeError(
                "Authentication error: this engine admits only clients with a token; open the URL with ?token= "
                    + "that `imjoy serve` printed, or ask the engine's owner for a token (`imjoy token`)",
                closeCode: 1008, isAuthenticationFailure: true)
        }
        let id = "anonymouz-\(ReadableName.make())"
        let user = UserInfo(
            id: id, roles: ["anonymous"], isAnonymous: true, workspaces: ["ws-user-\(id)": .admin])
        if let requested = request.workspace, requested != user.ownWorkspace {
            throw HandshakeError(
                "Failed to establish connection: Permission denied for workspace: \(requested) (anonymous clients get "
                    + "their own workspace; to join another one, connect with a token from its generate_token)",
                closeCode: 1008)
        }
        return (user, user.ownWorkspace, false, nil)
    }

    private func verify(_ token: String, as kind: TokenIssuer.Kind) async throws(HandshakeError) -> TokenIssuer.Grant {
        do {
            return try await tokens.verify(token, as: kind)
        } catch {
            throw HandshakeError("Authentication error: \(error.message)", closeCode: 1008, isAuthenticationFailure: true)
        }
    }

    /// Refuses tokens (and reconnection tokens descending from tokens) that were revoked.
    private func checkNotRevoked(_ tokenID: String?) async throws(HandshakeError) {
        guard let tokenID, tokenID != AdminToken.owner.tokenID else { return }
        let record: TokenRecord?
        do {
            record = try await store.token(tokenID)
        } catch {
            throw HandshakeError("Failed to establish connection: \(error.message)", closeCode: 1011)
        }
        if let revoked = record?.revokedAt {
            throw HandshakeError(
                "Authentication error: the token was revoked (\(revoked.formatted(.iso8601))); ask the workspace's "
                    + "owner for a new one (generate_token, or `imjoy token` on the engine's machine)",
                closeCode: 1008, isAuthenticationFailure: true)
        }
    }

    /// Whether the holder of a client id still answers (a fresh connection may take over a dead one).
    private func isAlive(_ connection: ClientConnection) async -> Bool {
        do {
            let answer = try await managerPeer.call(
                target: connection.address, method: "services.built-in.ping", arguments: ["ping"],
                timeout: configuration.livenessProbeTimeout)
            return answer.stringValue == "pong"
        } catch {
            return false
        }
    }
}
