#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC
public import Logging
import MessagePack
public import NIOCore
import Synchronization

/// The running engine: authenticates connections, routes their messages, and hosts the workspace
/// manager peer (`*/<manager_id>`) that registers, finds and lists services.
///
/// The server adapter drives it per socket:
/// ```swift
/// let (connection, info) = try await engine.connect(authFrame: firstText, sink: sink)
/// sink.send(.text(info))
/// for frame in socket { engine.receive(binary: frame, from: connection) }   // or receive(text:)
/// await engine.disconnected(connection)
/// ```
/// ``run()`` must be running (it serves the manager peer) while connections are handled.
public final class Engine: Sendable {
    public let configuration: EngineConfiguration
    let logger: Logger
    let tokens: TokenIssuer
    let table: ConnectionTable
    let workspaces: WorkspaceManager
    let router: MessageRouter
    let managerPeer: RPCPeer
    /// Fired once `public/plugin-engine` is registered (``waitForPluginEngine()``).
    private let pluginEngineRegistered = OneTimeSignal()
    /// Plugin processes the engine started (their connections get a ``CallTracker``).
    let supervisedPlugins = SupervisedAddresses()
    /// Workers that host plugins for this engine, and the plugins on them.
    let hosts = HostDirectory()
    /// Runs native-python plugins (when configured).
    public let pluginSupervisor: PluginSupervisor?
    /// Workspaces, installed plugins, settings, workflows and tokens (SQLite).
    public let store: EngineStore
    /// The owner's token.
    public let admin: AdminToken
    let authFailures: AuthFailureLimiter
    private let managerFrames: AsyncStream<Data>
    private let baseURL: Mutex<String>

    private init(
        configuration: EngineConfiguration, logger: Logger, tokens: TokenIssuer, store: EngineStore, admin: AdminToken
    ) {
        self.configuration = configuration
        self.store = store
        self.admin = admin
        self.authFailures = AuthFailureLimiter(limit: configuration.maxFailedAuthenticationsPerMinute)
        self.logger = logger
        self.tokens = tokens
        self.baseURL = Mutex(configuration.publicBaseURL)
        self.table = ConnectionTable()
        self.workspaces = WorkspaceManager()
        self.pluginSupervisor = configuration.plugins.map { PluginSupervisor(settings: $0, logger: logger) }
        let (frames, inbox) = AsyncStream<Data>.makeStream()
        self.managerFrames = frames
        self.router = MessageRouter(
            table: table, managerAddress: configuration.managerAddress, managerInbox: inbox,
            managerUser: MessagePackEncoder.encodeBytes(UserInfo.root.messagePackValue),
            maxForwardedFrameSize: configuration.maxForwardedFrameSize, logger: logger, hosts: hosts)
        self.managerPeer = RPCPeer(
            configuration: .init(
                clientID: configuration.managerID, workspace: "*", serverBaseURL: configuration.publicBaseURL,
                managerID: configuration.managerID, methodTimeout: configuration.serviceFetchTimeout,
                maxAssembledMessageSize: 16 << 20, maxAssembliesPerSender: 8, sessionLifetime: .seconds(60),
                acceptsEvents: false, allowsInterfaces: false),
            transport: ManagerTransport(router: router), logger: logger)
    }

    /// Creates an engine: loads (or creates) the token secret, the admin token and the database in the data
    /// directory, drops the temporary workspaces of the previous run and creates `default` on first start.
    public static func make(configuration: EngineConfiguration, logger: Logger) async throws -> Engine {
        let tokens = try await TokenIssuer.load(dataDirectory: configuration.dataDirectory)
        let admin = try AdminToken.load(dataDirectory: configuration.dataDirectory)
        let store = try EngineStore.open(at: configuration.dataDirectory.appendingPathComponent("imjoy.sqlite"))
        try await store.deleteTemporaryWorkspaces()
        if try await store.workspace(EngineConfiguration.defaultWorkspace) == nil {
            try await store.createWorkspace(
                WorkspaceRecord(
                    name: EngineConfiguration.defaultWorkspace, description: "The workspace you start in",
                    owner: AdminToken.owner.id))
        }
        let engine = Engine(configuration: configuration, logger: logger, tokens: tokens, store: store, admin: admin)
        for workspace in try await store.workspaces() {
            await engine.workspaces.ensureWorkspace(workspace.name, owner: workspace.owner, temporary: false)
        }
        await engine.managerPeer.addService(ManagerService(engine: engine).definition())
        await engine.pluginSupervisor?.attach(to: engine)
        return engine
    }

    /// Serves the manager peer (and the plugin engine) until cancelled.
    public func run() async {
        logger.debug("Workspace manager started", metadata: ["peer.id": "\(configuration.managerAddress)"])
        await withDiscardingTaskGroup { group in
            group.addTask { await self.managerPeer.run(frames: self.managerFrames) }
            group.addTask { await self.runPluginEngine() }
        }
        await managerPeer.removeService(id: "default")
    }

    /// Hosts `public/plugin-engine` until cancelled.
    private func runPluginEngine() async {
        await workspaces.ensureWorkspace("public", owner: "root", temporary: false)
        let client = InternalClient(engine: self, workspace: "public", clientID: "engine", user: .root)
        let service = PluginEngineService(engine: self, supervisor: pluginSupervisor)
        await withDiscardingTaskGroup { group in
            group.addTask { await client.run() }
            do {
                try await client.join(self, offering: service.definition())
                logger.debug("Plugin engine started", metadata: ["service.id": "public/engine:plugin-engine"])
            } catch {
                logger.error("Could not register the plugin engine service", metadata: ["error": "\(error)"])
            }
            pluginEngineRegistered.fire()
        }
    }

    /// Returns once `public/plugin-engine` is registered (or failed to be) after ``run()`` started: a client that
    /// connects at once, in the same process, finds it.
    public func waitForPluginEngine() async {
        await pluginEngineRegistered.wait()
    }

    /// Stops every plugin process (call on shutdown, after ``run()`` returned or before the process exits).
    public func shutdown() async {
        await pluginSupervisor?.stopAll()
    }

    /// The URL clients reach the engine at (`public_base_url`).
    public var publicBaseURL: String { baseURL.withLock { $0 } }

    /// Sets the public URL once the server knows its port (before it accepts connections).
    public func serverStarted(publicBaseURL url: String) async {
        baseURL.withLock { $0 = url }
        await managerPeer.updateServerBaseURL(url)
        await managerPeer.addService(ManagerService(engine: self).definition())
    }

    /// Number of open connections.
    public var connectionCount: Int { table.count }

    // MARK: - Messages

    /// Routes a binary frame from `connection`. A frame that cannot be delivered is answered at once:
    /// with a reject of the sender's call when it had a session, else with an error text frame.
    public func receive(binary frame: ByteBuffer, from connection: ClientConnection) {
        do {
            try router.route(frame, from: connection)
        } catch {
            logger.debug("Undeliverable frame", metadata: ["peer.id": "\(connection.address)", "error": "\(error.message)"])
            if let session = error.session {
                connection.sink.send(
                    MessageRouter.reject(
                        session: session, message: error.message, from: error.target ?? configuration.managerAddress,
                        to: connection))
            } else {
                connection.sink.send(.text(JSONText.encode(["type": "error", "message": .string(error.message)])))
            }
        }
    }

    /// Answers a text frame after the handshake: `ping` → `pong`, `refresh_token` → a new reconnection token.
    public func receive(text: String, from connection: ClientConnection) async {
        guard let type = JSONText.value(from: text)?["type"]?.stringValue else {
            connection.sink.send(
                .text(
                    JSONText.encode([
                        "type": "error",
                        "message": "Text frames after the handshake must be JSON objects with a `type` (ping or refresh_token); RPC messages are binary msgpack",
                    ])))
            return
        }
        switch type {
        case "ping":
            connection.sink.send(.text(#"{"type": "pong"}"#))
        case "refresh_token":
            do {
                let token = try await reconnectionToken(for: connection.user, workspace: connection.workspace, clientID: connection.clientID)
                connection.sink.send(
                    .text(JSONText.encode(["type": "reconnection_token", "reconnection_token": .string(token)])))
            } catch {
                logger.error("Could not issue a reconnection token", metadata: ["error": "\(error)"])
            }
        default:
            connection.sink.send(
                .text(
                    JSONText.encode([
                        "type": "error",
                        "message": .string("Unknown text message type '\(type.prefix(64))': only ping and refresh_token are understood"),
                    ])))
        }
    }

    // MARK: - Leaving

    /// Cleans up after a socket closed: removes the client's services, fails calls pending to it, and tells
    /// its workspace and every peer that called it. A connection superseded by a reconnection leaves no trace.
    public func disconnected(_ connection: ClientConnection) async {
        let (removed, _) = table.remove(connection)
        guard removed else { return }
        logger.info("Client disconnected", metadata: ["peer.id": "\(connection.address)"])
        if let tracker = connection.callTracker { await failPendingCalls(tracker, of: connection) }
        if table.connection(at: connection.address) == nil {
            let address = connection.address
            for host in hosts.connectionLeft(address) {
                logger.warning("Plugin host offline", metadata: ["host.name": "\(host.name)", "workspace.id": "\(host.workspace)"])
            }
            // The plugins it started stop with it (here and on workers), except allow-detach ones.
            Task {
                await pluginSupervisor?.clientLeft(address)
                await self.stopHostedPlugins(ownedBy: address)
            }
        }
        let services = await workspaces.removeServices(ofClient: connection.address, connection: connection.serial)
        // A reconnection may have taken the address while we were waiting: then the peer is not gone.
        if table.connection(at: connection.address) == nil {
            await managerPeer.peerDisconnected(connection.address)
            let callers = table.all.filter { $0.forgetContact(connection.address) }
            let event = MessageRouter.event(
                "client_disconnected",
                data: ["id": .string(connection.clientID), "workspace": .string(connection.workspace)])
            router.broadcast(event, type: "client_disconnected", in: connection.workspace, alsoTo: callers)
        }
        for service in services where service.type != "built-in" {
            router.broadcast(
                MessageRouter.event("service_removed", data: service.info), type: "service_removed",
                in: service.workspace)
        }
        let table = table
        let workspace = connection.workspace
        if await workspaces.removeIfTemporary(workspace, isEmpty: { table.connections(in: workspace).isEmpty }) {
            logger.debug("Temporary workspace removed", metadata: ["workspace.id": "\(workspace)"])
            do {
                try await store.deleteWorkspace(workspace)
            } catch {
                logger.warning("Could not delete a temporary workspace's data", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Rejects every call still waiting on a supervised plugin that went away, saying why it went (exit code,
    /// stderr tail) — callers would otherwise only hear "client disconnected".
    private func failPendingCalls(_ tracker: CallTracker, of connection: ClientConnection) async {
        guard tracker.pendingCount > 0 else { return }
        let reason =
            await tracker.exitReason(waitingUpTo: .seconds(3))
            ?? "The plugin \(connection.address) disconnected while the call was running"
        for (session, caller) in tracker.drain() {
            guard let callerConnection = table.connection(at: caller) else { continue }
            callerConnection.sink.send(
                MessageRouter.reject(session: session, message: reason, from: connection.address, to: callerConnection))
        }
    }

    /// The access token a plugin process connects with: the starting user's rights, limited to read-write in
    /// `workspace`, for that plugin's client id only.
    public func pluginToken(owner: UserInfo, workspace: String, clientID: String) async throws -> String {
        let user = UserInfo(
            id: owner.id, roles: owner.roles.filter { $0 != "admin" }, isAnonymous: owner.isAnonymous,
            workspaces: [workspace: .readWrite], email: owner.email, parent: owner.parent ?? owner.id,
            tokenID: owner.tokenID)
        return try await tokens.issue(
            for: user, kind: .access, workspace: workspace, clientID: clientID, lifetime: .seconds(30 * 24 * 3600))
    }

    /// A reconnection token that expires with the user's own grant (a guest's token) or after the usual lifetime.
    func reconnectionToken(for user: UserInfo, workspace: String, clientID: String) async throws -> String {
        var lifetime = configuration.reconnectionTokenLifetime
        if let expiry = user.expiresAt {
            let remaining = expiry.timeIntervalSinceNow
            guard remaining > 0 else { throw AuthError("the token that granted this connection has expired") }
            lifetime = min(lifetime, .seconds(remaining))
        }
        return try await tokens.issue(
            for: user, kind: .reconnection, workspace: workspace, clientID: clientID, lifetime: lifetime)
    }
}
