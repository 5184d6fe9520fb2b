#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import ImJoyRPC
public import Logging
public import MessagePack

/// A Swift program's connection to an ImJoy engine (or any Hypha-protocol server): register services made of
/// Swift closures, find and call other peers' services.
///
/// ```swift
/// try await ImJoyClient.withConnection(to: "http://127.0.0.1:9527") { client in
///     try await client.registerService(RPCService(id: "hello", visibility: .public, members: [
///         "greet": .function(RPCFunction(name: "greet") { call in "Hello, \(call.positional[0].stringValue ?? "?")" }),
///     ]))
///     let calc = try await client.getService("ws-other/provider:calc")
///     print(try await calc.call("add", 1, kwargs: ["b": 2]))
/// }
/// ```
public final class ImJoyClient: Sendable {
    /// The workspace this client lives in.
    public let workspace: String
    public let clientID: String
    /// The client id of the workspace manager.
    public let managerID: String
    /// The server's `public_base_url`.
    public let serverBaseURL: String
    /// The full `connection_info` the engine sent.
    public let connectionInfo: [String: MessagePackValue]
    /// The RPC peer under this client (for advanced use: raw calls, event handlers).
    public let peer: RPCPeer
    private let link: any ClientLink

    /// `"<workspace>/<client_id>"`.
    public var address: String { "\(workspace)/\(clientID)" }

    init(info: [String: MessagePackValue], peer: RPCPeer, link: any ClientLink) {
        self.link = link
        self.connectionInfo = info
        self.workspace = info["workspace"]?.stringValue ?? ""
        self.clientID = info["client_id"]?.stringValue ?? ""
        self.managerID = info["manager_id"]?.stringValue ?? ""
        self.serverBaseURL = info["public_base_url"]?.stringValue ?? ""
        self.peer = peer
    }

    /// Connects, runs `body` with the connected client, then disconnects.
    ///
    /// `body`, the client's service functions and its receive loop run on the connection's event loop (a task
    /// executor preference), so a call and its answer cross no thread besides the socket's. Keep them from
    /// blocking: move long CPU work off the loop, e.g. `await withTaskExecutorPreference(globalConcurrentExecutor) { … }`.
    /// - Throws: ``ClientError`` when the engine refuses the connection, or what `body` throws.
    public static func withConnection<T: Sendable>(
        to url: String, options: ConnectionOptions = ConnectionOptions(), logger: Logger = Logger(label: "imjoy.client"),
        _ body: @Sendable (ImJoyClient) async throws -> T
    ) async throws -> T {
        let connection = try await ClientConnection.open(
            url: try ClientConnection.socketURL(for: url), options: options, logger: logger)
        return try await run(over: connection, info: connection.info, options: options, logger: logger, body)
    }

    /// Connects to an engine in the same process (see ``InProcessLink``), runs `body` with the connected client,
    /// then disconnects. The client's tasks run on the default executor.
    /// - Throws: ``ClientError`` when the engine refused the connection, or what `body` throws.
    public static func withConnection<T: Sendable>(
        through link: InProcessLink, options: ConnectionOptions = ConnectionOptions(),
        logger: Logger = Logger(label: "imjoy.client"), _ body: @Sendable (ImJoyClient) async throws -> T
    ) async throws -> T {
        let info: [String: MessagePackValue]
        do {
            info = try ClientConnection.connectionInfo(from: link.connectionInfoText)
        } catch {
            await link.close()
            throw error
        }
        return try await run(over: link, info: info, options: options, logger: logger, body)
    }

    private static func run<T: Sendable>(
        over link: some ClientLink, info: [String: MessagePackValue], options: ConnectionOptions, logger: Logger,
        _ body: @Sendable (ImJoyClient) async throws -> T
    ) async throws -> T {
        let peer = RPCPeer(
            configuration: .init(
                clientID: info["client_id"]?.stringValue ?? options.clientID,
                workspace: info["workspace"]?.stringValue ?? "",
                serverBaseURL: info["public_base_url"]?.stringValue ?? "",
                managerID: info["manager_id"]?.stringValue, methodTimeout: options.methodTimeout,
                chunkSize: options.chunkSize),
            transport: link.transport, logger: logger)
        let client = ImJoyClient(info: info, peer: peer, link: link)
        return try await withTaskExecutorPreference(link.executor) {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await link.serve(peer) }
                let result: Result<T, any Error>
                do {
                    try await client.announce()
                    result = .success(try await body(client))
                } catch {
                    result = .failure(error)
                }
                // Close politely and give the engine a moment to answer; the receive loop then ends.
                await client.disconnect()
                group.cancelAll()
                return try result.get()
            }
        }
    }

    /// Returns once the connection has ended (closed by either side, or lost); cancelling the task that waits
    /// closes the connection.
    public func waitUntilDisconnected() async {
        await link.waitUntilClosed()
    }

    /// Closes the connection (a normal WebSocket close); pending calls fail.
    public func disconnect() async {
        await link.close()
    }

    /// Registers the built-in service and subscribes to `client_disconnected`, as hypha-rpc does on connect.
    func announce() async throws {
        _ = try await manager("register_service", [.encoded(await peer.builtInServiceInfo())])
        _ = try await manager("subscribe", [["client_disconnected"]])
    }

    // MARK: - The workspace manager

    /// Calls a method of the workspace manager (`register_service`, `list_clients`, `echo` …).
    public func manager(_ method: String, _ arguments: [RPCValue] = [], kwargs: RPCObject? = nil) async throws -> RPCValue {
        try await peer.call(
            target: "*/\(managerID)", method: "services.default.\(method)", arguments: arguments, kwargs: kwargs)
    }

    /// Offers a service to other peers; returns its full id `"<workspace>/<client>:<id>"`.
    @discardableResult
    public func registerService(_ service: RPCService) async throws -> String {
        await peer.addService(service)
        guard let info = await peer.serviceInfo(id: service.id) else { return "" }
        _ = try await manager("register_service", [.encoded(info)])
        return "\(address):\(service.id)"
    }

    /// Withdraws one of this client's services.
    public func unregisterService(id: String) async throws {
        _ = try await manager("unregister_service", [.string(id)])
        await peer.removeService(id: id)
    }

    /// Finds a service (`"<svc>"`, `"<client>:<svc>"`, `"<ws>/<svc>"` or `"<ws>/<client>:<svc>"`).
    public func getService(_ id: String) async throws -> RemoteService {
        let value = try await manager("get_service", [.string(id)])
        guard let object = value.objectValue else {
            throw ClientError(.protocolViolation, "get_service(\(id)) did not return a service")
        }
        return RemoteService(object: object)
    }

    /// Lists services: of this workspace by default, or as `query` selects (see `list_services`).
    public func listServices(_ query: RPCValue = .null) async throws -> [RPCObject] {
        try await manager("list_services", [query]).arrayValue?.compactMap(\.objectValue) ?? []
    }

    /// Issues a token that lets another client join this workspace.
    public func generateToken(permission: String = "read_write", expiresIn: Duration = .seconds(3600)) async throws
        -> String
    {
        let seconds = Double(expiresIn.components.seconds)
        let value = try await manager(
            "generate_token", [["permission": .string(permission), "expires_in": .double(seconds)]])
        guard let token = value.stringValue else {
            throw ClientError(.protocolViolation, "generate_token did not return a token")
        }
        return token
    }
}

/// A service of another peer, as `get_service` returned it.
public struct RemoteService: Sendable {
    /// The members: functions and values.
    public let object: RPCObject

    /// A service from its members, e.g. a service object another call returned (`plugin-engine.start`).
    public init(object: RPCObject) {
        self.object = object
    }

    /// The full id `"<workspace>/<client>:<service>"`.
    public var id: String { object["id"]?.stringValue ?? "" }

    /// The function or value under `name` (a dotted path reaches nested members).
    public subscript(name: String) -> RPCValue? {
        var current: RPCValue = .object(object)
        for part in name.split(separator: ".") {
            guard let next = current[String(part)] else { return nil }
            current = next
        }
        return current
    }

    /// Calls the function `name` with positional and keyword arguments.
    public func call(_ name: String, _ arguments: RPCValue..., kwargs: RPCObject? = nil) async throws -> RPCValue {
        guard let function = self[name]?.functionValue else {
            throw ClientError(.protocolViolation, "Service \(id) has no function '\(name)'")
        }
        return try await function.call(arguments, kwargs: kwargs)
    }
}
