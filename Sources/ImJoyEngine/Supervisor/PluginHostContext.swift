import ImJoyCore
import ImJoyRPC
public import MessagePack

/// What a ``PluginSupervisor`` needs from the place it runs in: the engine itself, or an `imjoy worker` on
/// another machine that runs plugins for an engine it is connected to.
public protocol PluginHostContext: AnyObject, Sendable {
    /// The URL plugin processes connect to (`IMJOY_SERVER_URL`).
    var pluginServerURL: String { get }

    /// The token a plugin process connects with, as client `clientID` of `workspace`, acting for `owner`.
    func pluginToken(owner: UserInfo, workspace: String, clientID: String) async throws -> String

    /// A plugin process will connect at `address`; calls to it are counted by `tracker` (so they fail with the
    /// crash reason when it dies).
    func expectPlugin(at address: String, tracker: CallTracker)

    /// The plugin process at `address` ended (or never started).
    func forgetPlugin(at address: String, tracker: CallTracker)

    /// A plugin changed state.
    func pluginStatusChanged(_ status: PluginStatusEvent)

    /// A plugin (client `clientID` of `workspace`) wrote a log line.
    func pluginLogged(name: String, clientID: String, entry: PluginLogEntry, workspace: String)

    /// The descriptor of a running plugin's service, as `get_service` returns it.
    func pluginDescriptor(workspace: String, clientID: String, serviceID: String) async throws -> MessagePackValue

    /// Calls `method` (e.g. `services.default.resume`) of the plugin at `address`.
    func callPlugin(at address: String, method: String) async throws
}

/// A plugin's new state, as the `plugin_status` event carries it.
public struct PluginStatusEvent: Sendable {
    public var name: String
    public var clientID: String
    public var workspace: String
    /// `starting`, `running`, `stopping`, `stopped`, `crashed`, `failed` …
    public var state: String
    public var phase: String?
    public var error: String?
    /// The worker it runs on; `nil` for the engine's own plugins.
    public var host: String?

    public init(
        name: String, clientID: String, workspace: String, state: String, phase: String? = nil, error: String? = nil,
        host: String? = nil
    ) {
        self.name = name
        self.clientID = clientID
        self.workspace = workspace
        self.state = state
        self.phase = phase
        self.error = error
        self.host = host
    }

    /// The event's `data`.
    public var messagePackValue: MessagePackValue {
        var data: MessagePackMap = [
            "name": .string(name), "client_id": .string(clientID), "workspace": .string(workspace),
            "state": .string(state),
        ]
        if let phase { data["phase"] = .string(phase) }
        if let error { data["error"] = .string(error) }
        if let host { data["host"] = .string(host) }
        return .map(data)
    }
}

extension PluginInstance {
    var statusEvent: PluginStatusEvent {
        let snapshot = current
        var event = PluginStatusEvent(
            name: snapshot.plugin.config.name, clientID: clientID, workspace: workspace, state: snapshot.state.name)
        switch snapshot.state {
        case .starting(let phase): event.phase = phase.rawValue
        case .crashed(let reason), .failed(let reason): event.error = reason
        default: break
        }
        return event
    }
}

extension Engine: PluginHostContext {
    public var pluginServerURL: String { publicBaseURL }

    public func expectPlugin(at address: String, tracker: CallTracker) {
        supervisedPlugins.expect(address, tracker: tracker)
    }

    public func forgetPlugin(at address: String, tracker: CallTracker) {
        supervisedPlugins.forget(address, tracker: tracker)
    }

    public func pluginStatusChanged(_ status: PluginStatusEvent) {
        router.broadcast(
            MessageRouter.event("plugin_status", data: status.messagePackValue), type: "plugin_status",
            in: status.workspace)
    }

    public func pluginLogged(name: String, clientID: String, entry: PluginLogEntry, workspace: String) {
        publishPluginLog(name: name, entry: entry, in: workspace)
    }

    public func pluginDescriptor(workspace: String, clientID: String, serviceID: String) async throws -> MessagePackValue {
        let entries = await workspaces.find(workspace: workspace, clientID: clientID, serviceID: serviceID, appID: nil)
        guard let entry = entries.first else {
            throw PluginEngineError("The plugin is running but its service \(workspace)/\(clientID):\(serviceID) is not registered")
        }
        return try await serviceDescriptor(of: entry)
    }

    public func callPlugin(at address: String, method: String) async throws {
        _ = try await managerPeer.call(target: address, method: method, timeout: .seconds(60))
    }
}
