#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyCore
import ImJoyEngine
import ImJoyRPC
import Logging
import MessagePack

/// The `plugin-host` service of an `imjoy worker`: the engine asks it to start, stop and report plugins, which
/// run here under the same supervisor as the engine's own (environments, phases, logs, crash reports) and
/// connect to the engine themselves with the token the engine sent along.
final class WorkerHost: PluginHostContext {
    let name: String
    let pluginServerURL: String
    let supervisor: PluginSupervisor
    let python: String
    let environment: [String: String]
    let logger: Logger
    /// What its plugins do, on the way to the engine (which streams it to the workspace).
    let events = HostEventQueue()

    init(
        name: String, serverURL: String, supervisor: PluginSupervisor, python: String, environment: [String: String],
        logger: Logger
    ) {
        self.name = name
        self.pluginServerURL = serverURL
        self.supervisor = supervisor
        self.python = python
        self.environment = environment
        self.logger = logger
    }

    // MARK: - PluginHostContext

    func pluginToken(owner: UserInfo, workspace: String, clientID: String) async throws -> String {
        throw PluginEngineError("A worker runs plugins with the tokens the engine sends; none came with this start")
    }

    func expectPlugin(at address: String, tracker: CallTracker) {}
    func forgetPlugin(at address: String, tracker: CallTracker) {}

    func pluginStatusChanged(_ status: PluginStatusEvent) {
        logger.info(
            "Plugin \(status.state)",
            metadata: ["plugin.name": "\(status.name)", "workspace.id": "\(status.workspace)", "error": "\(status.error ?? "")"])
        var event: RPCObject = ["kind": "status", "client_id": .string(status.clientID), "state": .string(status.state)]
        if let phase = status.phase { event["phase"] = .string(phase) }
        if let error = status.error { event["error"] = .string(error) }
        events.add(.object(event))
    }

    func pluginLogged(name: String, clientID: String, entry: PluginLogEntry, workspace: String) {
        logger.debug("\(entry.source.rawValue): \(entry.text)", metadata: ["plugin.name": "\(name)"])
        events.add(
            .object([
                "kind": "log", "client_id": .string(clientID), "index": .int(Int64(entry.index)),
                "time": .double(entry.time.timeIntervalSince1970), "source": .string(entry.source.rawValue),
                "text": .string(entry.text),
            ]))
    }

    /// The engine looks the service up itself once the start returns; the worker only reports its id.
    func pluginDescriptor(workspace: String, clientID: String, serviceID: String) async throws -> MessagePackValue {
        ["id": .string("\(workspace)/\(clientID):\(serviceID)")]
    }

    func callPlugin(at address: String, method: String) async throws {
        throw PluginEngineError("A worker does not call its plugins; the engine does")
    }

    // MARK: - The service

    /// The service this worker registers in its workspace.
    func service() -> RPCService {
        RPCService(
            id: "plugin-host", name: name, type: "plugin-host",
            description: "Runs native-python plugins on \(name) for the engine.", visibility: .protected,
            members: [
                "info": .function(RPCFunction(name: "info") { [self] _ in await info() }),
                "start": .function(RPCFunction(name: "start") { [self] call in try await start(call.argument(0, "request") ?? .null) }),
                "stop": .function(
                    RPCFunction(name: "stop") { [self] call in
                        try await supervisor.stop(clientID: try clientID(call))
                        return .null
                    }),
                "status": .function(RPCFunction(name: "status") { [self] call in try await supervisor.statusRow(clientID: try clientID(call)) }),
                "logs": .function(
                    RPCFunction(name: "logs") { [self] call in
                        try await supervisor.logRows(
                            clientID: try clientID(call), since: call.argument(1, "since")?.intValue ?? 0,
                            limit: max(1, min(call.argument(2, "limit")?.intValue ?? 500, 5000)))
                    }),
                "list": .function(RPCFunction(name: "list") { [self] _ in .array(await supervisor.statusRows()) }),
            ])
    }

    /// Measured once (nvidia-smi and python --version are processes): the engine asks on every host listing.
    private let resources = Resources()

    private actor Resources {
        private var measured: HostResources?

        func get(python: String, environment: [String: String]) async -> HostResources {
            if let measured { return measured }
            var resources = await HostResources.measure(python: python, environment: environment)
            if resources.python == nil { resources.python = python }
            measured = resources
            return resources
        }
    }

    private func info() async -> RPCValue {
        let resources = await resources.get(python: python, environment: environment)
        guard case .object(var object) = resources.rpcValue else { return .null }
        object["name"] = .string(name)
        object["plugins"] = .int(Int64(await supervisor.activeProcessIDs.count))
        return .object(object)
    }

    private func clientID(_ call: RPCCall) throws -> String {
        guard let id = call.argument(0, "client_id")?.stringValue else {
            throw PluginEngineError("This method of plugin-host needs the plugin's client_id")
        }
        return id
    }

    /// `start({source, tag, client_id, token, owner, workspace, timeout?, restart?})`: runs the plugin until it
    /// is ready; returns `{client_id, service_id, pid, environment}`.
    private func start(_ request: RPCValue) async throws -> RPCValue {
        guard let source = request["source"]?.stringValue, let clientID = request["client_id"]?.stringValue,
            let token = request["token"]?.stringValue, let owner = request["owner"]?.stringValue
        else {
            throw PluginEngineError("start needs {source, client_id, token, owner} (the engine sends them)")
        }
        let plugin: Plugin
        do {
            plugin = try PluginLoader.load(source, tag: request["tag"]?.stringValue)
        } catch {
            throw PluginEngineError("The plugin could not be loaded on host '\(name)': \(error.description)")
        }
        var options = StartOptions(restart: request["restart"]?.boolValue ?? false, token: token, clientID: clientID)
        if let seconds = request["timeout"]?.doubleValue {
            options.setupTimeout = .milliseconds(Int64(seconds * 1000))
        }
        let user = UserInfo(id: "engine", roles: [], isAnonymous: false, workspaces: [:])
        logger.info("Starting plugin", metadata: ["plugin.name": "\(plugin.config.name)", "owner": "\(owner)"])
        let descriptor = try await supervisor.start(plugin, owner: PluginOwner(address: owner, user: user), options: options)
        var answer: RPCObject = ["client_id": .string(clientID), "service_id": .string(descriptor["id"]?.stringValue ?? "")]
        if case .object(let status) = try await supervisor.statusRow(clientID: clientID) {
            answer["pid"] = status["pid"] ?? .null
            answer["environment"] = status["environment"] ?? .null
        }
        return .object(answer)
    }
}
