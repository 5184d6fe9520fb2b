#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC
import Logging
import MessagePack

/// The workspace-manager service `default` (PROTOCOL.md §4.2): what every client's `server` object calls.
///
/// Each method identifies its caller by the `from` the router stamped, and acts with that connection's
/// user and workspace.
struct ManagerService: Sendable {
    let engine: Engine

    var logger: Logger { engine.logger }

    /// The service definition registered on the manager peer.
    func definition() -> RPCService {
        var members = RPCObject()
        func add(_ name: String, _ doc: String, _ body: @escaping @Sendable (RPCCall, ClientConnection) async throws -> RPCValue) {
            members[name] = .function(
                RPCFunction(name: name, doc: doc) { [engine] call in
                    guard let from = call.context?.from, let caller = engine.table.connection(at: from) else {
                        throw ManagerError("The manager only answers connected clients")
                    }
                    guard caller.beginManagerCall(limit: 128) else {
                        throw ManagerError("Too many calls to the workspace manager in flight from \(from) (limit 128)")
                    }
                    defer { caller.endManagerCall() }
                    if caller.isPluginHostOnly, !Self.pluginHostMethods.contains(name) {
                        throw ManagerError(
                            "Permission denied: a worker token may only register plugin hosts in \(caller.workspace) "
                                + "(register_service of type plugin-host); it cannot call \(name)")
                    }
                    return try await body(call, caller)
                })
        }
        add("register_service", "Register a service in the caller's workspace.", registerService)
        add("unregister_service", "Remove one of the caller's services.", unregisterService)
        add("get_service", "Get a service (functions to call) by id.", getService)
        add("get_service_info", "Get the registration info of a service.", getServiceInfo)
        add("list_services", "List services of a workspace.", listServices)
        add("subscribe", "Receive events of the given type(s).", subscribe)
        add("unsubscribe", "Stop receiving events of the given type(s).", unsubscribe)
        add("echo", "Return the argument.", echo)
        add("log", "Write a message to the engine's log.", log)
        add("generate_token", "Issue a token that lets another client join a workspace.", generateToken)
        add("list_clients", "List the clients connected to a workspace.", listClients)
        add("ping", "Check that a client answers.", ping)
        add("revoke_token", "Revoke a token (its text or id); its holders are disconnected.", revokeToken)
        add("list_tokens", "List the unexpired tokens issued for a workspace (ids, not the tokens).", listTokens)
        add("list_workspaces", "List the workspaces you can enter.", listWorkspaces)
        add("create_workspace", "Create a persistent workspace (engine owner only).", createWorkspace)
        add("delete_workspace", "Delete a workspace and everything in it (engine owner only).", deleteWorkspace)
        add("rename_workspace", "Rename a workspace (engine owner only; nobody may be connected to it).", renameWorkspace)
        add(
            "report_plugin_events", "A worker's plugins changed state or wrote log lines (plugin hosts only).",
            reportPluginEvents)
        add("get_workspace_info", "Describe a workspace: owner, description, settings, plugin count.", getWorkspaceInfo)
        let base = engine.publicBaseURL
        return RPCService(
            id: "default", name: "Default workspace management service",
            description: "Services for managing workspace.", visibility: .public,
            extraConfig: [
                "require_context": true, "server_id": .string(engine.configuration.managerID),
                "hypha_version": "0.21.137", "public_base_url": .string(base), "local_base_url": .string(base),
            ],
            members: members)
    }

    /// What a worker token may call.
    static let pluginHostMethods: Set<String> = [
        "register_service", "unregister_service", "subscribe", "echo", "ping", "log", "report_plugin_events",
    ]

    // MARK: - Services

    func registerService(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        guard case .object(let object)? = call.argument(0, "service") else {
            throw ManagerError("register_service needs the service info as its first argument")
        }
        guard case .map(let info) = ValueCodec.encodePlain(.object(object)) else { return .null }
        if info["id"]?.stringValue?.contains(":_rintf_") == true { return .null }
        let size = MessagePackEncoder.encodeBytes(.map(info)).count
        guard size <= engine.configuration.maxServiceInfoSize else {
            throw ManagerError(
                "Service info of \(size) bytes is over the \(engine.configuration.maxServiceInfoSize)-byte limit; "
                    + "keep long docs and schemas out of the registration")
        }
        let entry = try ServiceEntry.parse(info, createdBy: caller.user.id, connection: caller.serial)
        guard entry.providerAddress == caller.address else {
            throw ManagerError(
                "Service ID workspace prefix \(entry.providerAddress) does not match the caller \(caller.address): "
                    + "a client registers services under its own address")
        }
        guard let permission = caller.user.permission(in: caller.workspace), permission >= .readWrite else {
            throw ManagerError(
                "Permission denied: registering services in \(caller.workspace) needs read_write permission (this "
                    + "connection has \(caller.user.permission(in: caller.workspace)?.name ?? "none")); ask the "
                    + "workspace's owner for a read_write token (generate_token)")
        }
        if caller.isPluginHostOnly, entry.type != HostDirectory.serviceType, entry.type != "built-in" {
            throw ManagerError(
                "Permission denied: a worker token may only register services of type plugin-host, not "
                    + "\(entry.type.isEmpty ? "untyped" : entry.type) ones (\(entry.id))")
        }
        try await engine.workspaces.register(entry, quota: engine.configuration.maxServicesPerClient)
        if entry.type == HostDirectory.serviceType {
            engine.hostRegistered(entry, name: info["name"]?.stringValue ?? caller.clientID)
        }
        logger.debug("Service registered", metadata: ["service.id": "\(entry.id)"])
        if entry.type == "built-in" {
            engine.router.broadcast(
                MessageRouter.event(
                    "client_connected", data: ["id": .string(caller.clientID), "workspace": .string(caller.workspace)]),
                type: "client_connected", in: caller.workspace)
        } else {
            engine.router.broadcast(
                MessageRouter.event("service_added", data: entry.info), type: "service_added",
                in: caller.workspace)
        }
        return .null
    }

    func unregisterService(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        guard let raw = call.argument(0, "service_id")?.stringValue ?? call.argument(0, "service")?["id"]?.stringValue
        else { throw ManagerError("unregister_service needs a service id") }
        let reference = try ServiceReference(raw, callerWorkspace: caller.workspace)
        let id = "\(reference.workspace)/\(reference.clientID ?? caller.clientID):\(reference.serviceID)"
        let ownerAddress = "\(reference.workspace)/\(reference.clientID ?? caller.clientID)"
        guard ownerAddress == caller.address || caller.user.permission(in: reference.workspace) == .admin else {
            throw ManagerError(
                "Permission denied: \(caller.address) may only unregister its own services, not \(id) (that needs "
                    + "admin permission in \(reference.workspace))")
        }
        guard let removed = await engine.workspaces.unregister(id: id) else {
            throw ManagerError("Service not found: \(id)")
        }
        engine.router.broadcast(
            MessageRouter.event("service_removed", data: removed.info), type: "service_removed",
            in: removed.workspace)
        return .null
    }

    func getServiceInfo(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        let entry = try await resolve(call, caller)
        return .encoded(entry.info)
    }

    func getService(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        let entry = try await resolve(call, caller)
        let timeout = call.argument(1, "config")?["timeout"]?.doubleValue.flatMap { Duration.seconds(clamping: $0, to: 0.1...300) }
        return .encoded(try await engine.serviceDescriptor(of: entry, timeout: timeout))
    }

    /// Finds the one service a `get_service`-style call names and checks the caller may use it.
    private func resolve(_ call: RPCCall, _ caller: ClientConnection) async throws -> ServiceEntry {
        guard let raw = call.argument(0, "service_id")?.stringValue else {
            throw ManagerError("get_service needs a service id such as 'my-service' or '<workspace>/<client>:<service>'")
        }
        let reference = try ServiceReference(raw, callerWorkspace: caller.workspace)
        let config = call.argument(1, "config")
        let mode = config?["mode"]?.stringValue ?? (reference.workspace == "public" ? "random" : "exact")
        let matches = await engine.workspaces.find(
            workspace: reference.workspace, clientID: reference.clientID, serviceID: reference.serviceID,
            appID: reference.appID)
        guard !matches.isEmpty else { throw ManagerError("Service not found: \(raw)") }
        let visible = matches.filter {
            $0.isVisible(toWorkspace: caller.workspace, userPermission: caller.user.permission(in: $0.workspace))
        }
        guard !visible.isEmpty else {
            throw ManagerError(
                "Permission denied for non-public service in workspace \(reference.workspace): only its own clients "
                    + "may use it (you are in \(caller.workspace)); connect with a token for \(reference.workspace) "
                    + "from its owner, or have the service registered with visibility public")
        }
        if visible.count == 1 { return visible[0] }
        // first / last: the oldest / newest registration (connections' serials grow), as in Hypha.
        let byAge = visible.sorted { ($0.connection, $0.id) < ($1.connection, $1.id) }
        switch mode {
        case "first": return byAge[0]
        case "last": return byAge[byAge.count - 1]
        case "random": return visible.randomElement()!
        default:
            throw ManagerError(
                "Multiple services found for \(raw): \(visible.map(\.id).joined(separator: ", ")); name one of them, "
                    + "or pass config mode 'first', 'last' or 'random'")
        }
    }

    /// Makes every relative `_rtarget` of a descriptor absolute (JS providers send bare client ids).
    static func absoluteTargets(_ value: MessagePackValue, provider: String) -> MessagePackValue {
        switch value {
        case .map(var map):
            for index in map.entries.indices {
                if case .string("_rtarget") = map.entries[index].key, case .string(let target) = map.entries[index].value {
                    map.entries[index].value = .string(Address.absolute(target, in: Address.workspace(of: provider)))
                } else {
                    map.entries[index].value = absoluteTargets(map.entries[index].value, provider: provider)
                }
            }
            return .map(map)
        case .array(let values):
            return .array(values.map { absoluteTargets($0, provider: provider) })
        default:
            return value
        }
    }

    func listServices(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        let query = try ServiceQuery(call.argument(0, "query"), callerWorkspace: caller.workspace)
        let includeUnlisted = call.argument(1, "include_unlisted")?.boolValue ?? false
        let includeSchema = query.includeSchema || (call.keyword["include_schema"]?.boolValue ?? false)
        let candidates: [ServiceEntry]
        if let workspace = query.workspace {
            candidates = await engine.workspaces.find(
                workspace: workspace, clientID: query.clientID, serviceID: query.serviceID, appID: query.appID)
        } else {
            candidates = await engine.workspaces.allEntries().filter { $0.visibility == "public" }
        }
        // Built-in services (one per client) are infrastructure: listed only when asked for by type or id.
        let wantsBuiltIn = query.type == "built-in" || query.serviceID == "built-in"
        let listed = candidates.filter { entry in
            if entry.type == "built-in" && !wantsBuiltIn { return false }
            let own = entry.workspace == caller.workspace
            if entry.visibility == "unlisted" && !(includeUnlisted && own) { return false }
            if let type = query.type, entry.type != type { return false }
            if let visibility = query.visibility, entry.visibility != visibility { return false }
            return entry.isVisible(toWorkspace: caller.workspace, userPermission: caller.user.permission(in: entry.workspace))
        }
        return .encoded(.array(listed.map { includeSchema ? $0.info : $0.summary }))
    }

    // MARK: - Events, clients, misc

    func subscribe(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        let types = try eventTypes(call, caller)
        if caller.isPluginHostOnly, let other = types.first(where: { $0 != "client_disconnected" }) {
            throw ManagerError("Permission denied: a worker token may not subscribe to \(other) events")
        }
        guard caller.subscribe(types, limit: 256) else {
            throw ManagerError("Too many event subscriptions (the limit is 256 event types per client)")
        }
        return .bool(true)
    }

    func unsubscribe(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        caller.unsubscribe(try eventTypes(call, caller))
        return .null
    }

    private func eventTypes(_ call: RPCCall, _ caller: ClientConnection) throws -> [String] {
        let types: [String]
        switch call.argument(0, "event_type") {
        case .string(let s)?: types = [s]
        case .array(let values)?: types = values.compactMap(\.stringValue)
        default: throw ManagerError("subscribe needs an event type or a list of event types")
        }
        for type in types where type.contains("/") || (type.hasPrefix("ws-") && type != caller.workspace) {
            throw ManagerError("Cannot subscribe to '\(type)': events of other workspaces are not visible")
        }
        return types
    }

    func echo(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        call.argument(0, "data") ?? .null
    }

    func log(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        let message = call.argument(0, "msg").map { $0.stringValue ?? "\(ValueCodec.encodePlain($0))" } ?? ""
        logger.info("Client log", metadata: ["peer.id": "\(caller.address)", "message": "\(message.prefix(4096))"])
        return .null
    }

    func listClients(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        let workspace = call.argument(0, "workspace")?.stringValue ?? caller.workspace
        guard caller.user.permission(in: workspace) != nil else {
            throw ManagerError(
                "Permission denied: listing the clients of \(workspace) needs read permission in it (you are in "
                    + "\(caller.workspace)); connect with a token for \(workspace) from its owner")
        }
        let clients = engine.table.connections(in: workspace).sorted { $0.address < $1.address }.map {
            MessagePackValue.map(["id": .string($0.address), "user": ["id": .string($0.user.id)]])
        }
        return .encoded(.array(clients))
    }

    func ping(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        guard let client = call.argument(0, "client_id")?.stringValue else {
            throw ManagerError("ping needs a client id")
        }
        let address = Address.absolute(client, in: caller.workspace)
        let timeout = call.argument(1, "timeout")?.doubleValue.flatMap { Duration.seconds(clamping: $0, to: 0.1...60) }
        return try await engine.managerPeer.call(
            target: address, method: "services.built-in.ping", arguments: ["ping"], timeout: timeout ?? .seconds(5))
    }

    func generateToken(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        let config = call.argument(0, "config")?.objectValue ?? RPCObject()
        let workspace = config["workspace"]?.stringValue ?? caller.workspace
        guard caller.user.permission(in: workspace) == .admin else {
            throw ManagerError(
                "Permission denied: generating tokens for \(workspace) needs admin permission in it (you have "
                    + "\(caller.user.permission(in: workspace)?.name ?? "none")); ask its owner for an admin token")
        }
        let permissionName = config["permission"]?.stringValue ?? "read_write"
        guard let permission = Permission(name: permissionName) else {
            throw ManagerError("Invalid permission '\(permissionName)': use read, read_write or admin")
        }
        let seconds = config["expires_in"]?.doubleValue ?? engine.configuration.defaultTokenLifetime.seconds
        guard seconds >= 1, seconds <= 366 * 24 * 3600, let lifetime = Duration.seconds(clamping: seconds) else {
            throw ManagerError("Invalid expires_in \(seconds): give a number of seconds between 1 and one year")
        }
        let (token, _) = try await engine.tokens.issueWorkspaceToken(
            workspace: workspace, permission: permission, lifetime: lifetime,
            label: config["label"]?.stringValue ?? config["description"]?.stringValue ?? "", issuer: caller.user,
            clientID: config["client_id"]?.stringValue, email: config["email"]?.stringValue, store: engine.store)
        return .string(token)
    }
}
