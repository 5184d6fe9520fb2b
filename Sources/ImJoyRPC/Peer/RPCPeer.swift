#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import Logging
public import MessagePack

/// One RPC peer of PROTOCOL.md §3, independent of the transport: it serves local services and callbacks,
/// calls other peers, answers with promises and heartbeats, and chunks large messages.
///
/// ```swift
/// let peer = RPCPeer(configuration: .init(clientID: "me", workspace: "ws-1", serverBaseURL: url),
///                    transport: transport, logger: logger)
/// await peer.addService(calc)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { await peer.run(frames: inbound) }   // until the connection closes
///     let add = await peer.remoteFunction(target: "ws-2/other", method: "services.calc.add")
///     print(try await add(1, 2))
/// }
/// ```
/// - Important: frames must be handed to ``run(frames:)`` in arrival order; it processes them in that order.
public actor RPCPeer {
    /// Settings of a peer; only the address parts change (on reconnection).
    public struct Configuration: Sendable {
        public var clientID: String
        public var workspace: String
        /// `public_base_url` of the server; stamped into every function descriptor as `_rserver`.
        public var serverBaseURL: String
        /// Client id of the workspace manager; its calls may reach protected services.
        public var managerID: String?
        /// Time a call may go without an answer or a heartbeat.
        public var methodTimeout: Duration
        /// Size of the chunks of a large message, and the threshold above which messages are chunked.
        public var chunkSize: Int
        /// Chunks of one message sent concurrently.
        public var maxConcurrentChunks: Int
        /// Largest message assembled from chunks.
        public var maxAssembledMessageSize: Int
        /// Chunked messages one sender may have in progress at once.
        public var maxAssembliesPerSender: Int
        /// How long a session holding callbacks, or an unfinished chunked message, survives without activity.
        public var sessionLifetime: Duration
        /// Whether to act on events (`client_disconnected` …). A peer that only hears events from the server
        /// through other means (the workspace manager) turns this off so clients cannot forge them.
        public var acceptsEvents: Bool
        /// Whether `_rintf` objects in outgoing values become temporary services.
        public var allowsInterfaces: Bool
        public var decodingLimits: DecodingLimits

        public init(
            clientID: String, workspace: String, serverBaseURL: String, managerID: String? = nil,
            methodTimeout: Duration = .seconds(30), chunkSize: Int = 256 * 1024, maxConcurrentChunks: Int = 30,
            maxAssembledMessageSize: Int = 1 << 31, maxAssembliesPerSender: Int = 64,
            sessionLifetime: Duration = .seconds(600), acceptsEvents: Bool = true, allowsInterfaces: Bool = true,
            decodingLimits: DecodingLimits = .default
        ) {
            self.clientID = clientID
            self.workspace = workspace
            self.serverBaseURL = serverBaseURL
            self.managerID = managerID
            self.methodTimeout = methodTimeout
            self.chunkSize = chunkSize
            self.maxConcurrentChunks = maxConcurrentChunks
            self.maxAssembledMessageSize = maxAssembledMessageSize
            self.maxAssembliesPerSender = maxAssembliesPerSender
            self.sessionLifetime = sessionLifetime
            self.acceptsEvents = acceptsEvents
            self.allowsInterfaces = allowsInterfaces
            self.decodingLimits = decodingLimits
        }
    }

    /// Work that runs outside the actor (a service function and its reply).
    typealias Work = @Sendable () async -> Void

    public private(set) var configuration: Configuration
    let transport: any RPCTransport
    var logger: Logger

    var services: [String: RPCService] = [:]
    var sessions: [String: Session] = [:]
    var chunkAssemblies: [ChunkAssembly.Key: ChunkAssembly] = [:]
    var builtInVersions: [String: Int] = [:]
    var eventHandlers: [String: [@Sendable (RPCObject) async -> Void]] = [:]
    var isClosed = false
    /// Checks pending calls for timeouts while there are any (see ``watchPendingReplies()``).
    private var replyWatch: Task<Void, Never>?
    /// Calls this peer runs for callers that asked for heartbeats, by call number (``callStarted(_:)``).
    var callsInProgress: [UInt64: CallInProgress] = [:]
    var lastCallNumber: UInt64 = 0
    var heartbeatWatch: Task<Void, Never>?
    /// Session ids for the calls this peer sends.
    var randomness = PooledRandomNumberGenerator()

    public init(configuration: Configuration, transport: any RPCTransport, logger: Logger) {
        self.configuration = configuration
        self.transport = transport
        self.logger = logger
        self.logger[metadataKey: "peer.id"] = "\(configuration.workspace)/\(configuration.clientID)"
    }

    /// This peer's address `"<workspace>/<client_id>"`.
    public var address: String { "\(configuration.workspace)/\(configuration.clientID)" }

    /// Changes the workspace or manager after a reconnection.
    public func updateAddress(workspace: String, managerID: String?) {
        configuration.workspace = workspace
        configuration.managerID = managerID
        isClosed = false
    }

    /// Changes the `public_base_url` stamped into descriptors (the server learned its port).
    public func updateServerBaseURL(_ url: String) {
        configuration.serverBaseURL = url
    }

    // MARK: - Local services

    /// Adds or replaces a local service.
    public func addService(_ service: RPCService) {
        services[service.id] = service
    }

    /// Removes a local service; returns whether it existed.
    @discardableResult
    public func removeService(id: String) -> Bool {
        services.removeValue(forKey: id) != nil
    }

    /// The ids of the local services.
    public var serviceIDs: [String] { services.keys.sorted() }

    /// The info the manager's `register_service` expects for a local service.
    public func serviceInfo(id: String) -> MessagePackValue? {
        services[id]?.info(workspace: configuration.workspace, clientID: configuration.clientID)
    }

    /// The info of the always-present `built-in` service.
    public func builtInServiceInfo() -> MessagePackValue {
        BuiltInService.info(workspace: configuration.workspace, clientID: configuration.clientID)
    }

    /// Registers a handler for events of `type` (messages whose `type` is not `"method"`).
    public func on(event type: String, _ handler: @escaping @Sendable (RPCObject) async -> Void) {
        eventHandlers[type, default: []].append(handler)
    }

    // MARK: - Running

    /// Processes inbound frames in order until the sequence ends, running service calls concurrently.
    /// When it ends (the connection closed), every pending call fails at once.
    public func run<Frames: AsyncSequence & Sendable>(frames: Frames) async where Frames.Element == Data {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.sweepTimeouts() }
            do {
                for try await frame in frames {
                    for work in self.receive(frame) {
                        group.addTask { await work() }
                    }
                }
            } catch {
                logger.debug("Inbound frames ended with an error", metadata: ["error": "\(error)"])
            }
            connectionClosed(reason: "Connection was closed")
            group.cancelAll()
        }
    }

    /// Handles one inbound frame for an owner that runs its own receive loop (instead of ``run(frames:)``):
    /// answers, heartbeats and built-in calls are handled before this returns; the returned work (service calls)
    /// must be run by the caller, concurrently. ``serveTimeouts()`` must run meanwhile.
    public func handle(_ frame: Data) -> [@Sendable () async -> Void] {
        receive(frame)
    }

    /// Times out calls without news and forgets idle sessions until cancelled (``run(frames:)`` does this itself).
    public func serveTimeouts() async {
        await sweepTimeouts()
    }

    /// Fails every pending call (our connection is gone) and forgets chunk assemblies.
    public func connectionClosed(reason: String) {
        isClosed = true
        for (id, session) in sessions {
            session.reply?.settle(.failure(RPCError(.connectionClosed, reason)))
            if session.reply != nil { sessions[id]?.reply = nil }
        }
        sessions = sessions.filter { !$0.value.isIdle }
        chunkAssemblies.removeAll()
        builtInVersions.removeAll()
        callsInProgress.removeAll()
        heartbeatWatch?.cancel()
        heartbeatWatch = nil
    }

    /// Fails every call pending to `address` and drops the `_rintf` services only it could call.
    public func peerDisconnected(_ address: String) {
        let reason = "Client disconnected: \(address)"
        for (id, session) in sessions where session.target == address {
            session.reply?.settle(.failure(RPCError(.peerDisconnected, reason)))
            sessions.removeValue(forKey: id)
        }
        for (id, service) in services where service.allowedCaller == address {
            services.removeValue(forKey: id)
        }
        builtInVersions.removeValue(forKey: address)
        chunkAssemblies = chunkAssemblies.filter { $0.key.sender != address }
    }

    /// Forgets idle sessions and stale chunk assemblies every few seconds, until cancelled. Timeouts of pending
    /// calls are watched by a task that runs only while there are any (``watchPendingReplies()``), so an idle
    /// peer wakes up once every five seconds, not ten times a second.
    private func sweepTimeouts() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(5)) } catch { break }
            let now = ContinuousClock.now
            sessions = sessions.filter { _, s in
                s.reply != nil || now - s.lastActivity < configuration.sessionLifetime
            }
            chunkAssemblies = chunkAssemblies.filter { now - $0.value.lastActivity < configuration.sessionLifetime }
        }
        replyWatch?.cancel()
        replyWatch = nil
    }

    /// Starts watching pending calls for timeouts unless that already runs (called when a call is sent).
    func watchPendingReplies() {
        guard replyWatch == nil, !isClosed else { return }
        replyWatch = Task { await self.failOverdueReplies() }
    }

    /// Every 100 ms fails the calls that went without news for their timeout; ends when none are pending.
    private func failOverdueReplies() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .milliseconds(100)) } catch { return }
            let now = ContinuousClock.now
            var pending = false
            for (id, session) in sessions {
                guard let reply = session.reply else { continue }
                guard reply.isOverdue(at: now) else {
                    pending = true
                    continue
                }
                reply.settle(.failure(RPCError(.timeout, "Method call timed out: \(session.target ?? "?") (session \(id))")))
                sessions[id]?.reply = nil
                if sessions[id]?.isIdle == true { sessions.removeValue(forKey: id) }
            }
            if !pending {
                replyWatch = nil
                return
            }
        }
    }
}
