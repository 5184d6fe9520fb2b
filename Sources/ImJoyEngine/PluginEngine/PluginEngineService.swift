#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyCore
import ImJoyRPC
import MessagePack

/// The `plugin-engine` service (registered public in workspace `public`): install, start, stop and inspect
/// plugins, and keep a workspace's settings, workflows and layout. Every method acts on the caller's own workspace.
struct PluginEngineService: Sendable {
    let engine: Engine
    /// Runs native-python plugins; `nil` when the engine was started without them.
    let supervisor: PluginSupervisor?
    let fetcher = PluginFetcher()

    var store: EngineStore { engine.store }

    static let serviceID = "plugin-engine"

    func definition() -> RPCService {
        var members = RPCObject()
        func add(_ name: String, _ doc: String, _ body: @escaping @Sendable (RPCCall, PluginOwner) async throws -> RPCValue) {
            members[name] = .function(
                RPCFunction(name: name, doc: doc) { [engine] call in
                    guard let from = call.context?.from, let caller = engine.table.connection(at: from) else {
                        throw PluginEngineError("The plugin engine only answers connected clients")
                    }
                    return try await body(call, PluginOwner(address: caller.address, user: caller.user))
                })
        }
        add(
            "install",
            "Install a plugin (source text, URL, plugin URI, or a name with repository=<manifest URL>) and its "
                + "dependencies; returns its summary.", install)
        add("uninstall", "Remove an installed plugin and its settings.", uninstall)
        add("update", "Re-fetch a plugin from where it came from; install it if the version is newer.", update)
        add("reinstall", "Re-fetch a plugin from where it came from and install it whatever its version.", reinstall)
        add("enable", "Allow an installed plugin to start again.", enable)
        add("disable", "Keep an installed plugin from starting (it stays installed).", disable)
        add("get_source", "The source text of an installed plugin.", getSource)
        add("app_config", "Settings of the web app: where it loads Pyodide from.", appConfig)
        add("load_plugin", "The parts of an installed browser plugin (script, window, styles, requirements).", loadPlugin)
        add(
            "start",
            "Start an installed plugin (by name) or a plugin source; returns its API. host=NAME runs it on a "
                + "connected worker (hosts() lists them).", start)
        add("stop", "Stop a running plugin.", stop)
        add("list", "List installed and running plugins of your workspace.", list)
        add("logs", "Recent output of a plugin: [{index, time, source, text}].", logs)
        add("status", "State of a plugin: phase, process id, environment, last exit.", status)
        add("parse_ui", "An op's ui string as form segments [{text} | {id, type, options, default}].") { call, _ in
            Self.form(call.argument(0, "ui")?.stringValue ?? "")
        }
        add("hosts", "Where plugins can run: the engine (local) and connected workers, with their resources.", hosts)
        addWorkspaceMembers(add)
        return RPCService(
            id: Self.serviceID, name: "ImJoy plugin engine", type: "plugin-engine",
            description: "Installs plugins and runs native-python ones in isolated environments, in the caller's workspace.",
            visibility: .public, members: members)
    }

    // MARK: - Methods


    func start(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let argument = call.argument(0, "name")?.stringValue ?? call.argument(0, "source")?.stringValue else {
            throw PluginEngineError("start needs a plugin name (installed in your workspace) or a plugin source")
        }
        try requireWrite(caller)
        let tag = call.argument(1, "tag")?.stringValue
        var plugin: Plugin
        if Self.looksLikeSource(argument) {
            plugin = try await installResolved(
                try await installer(for: caller).resolve(argument, tag: tag, repository: nil), caller: caller,
                reinstall: true)
        } else {
            guard let record = try await store.plugin(argument, in: caller.workspace) else {
                throw PluginEngineError(
                    "No plugin named '\(argument)' is installed in workspace \(caller.workspace); install it first "
                        + "(install(source)) or pass the plugin source to start")
            }
            guard record.enabled else {
                throw PluginEngineError("'\(record.name)' is disabled in workspace \(caller.workspace); enable it first")
            }
            plugin = try load(record.source, tag: tag ?? record.tag)
        }
        var options = StartOptions()
        if let seconds = call.argument(2, "timeout")?.doubleValue {
            guard let timeout = Duration.seconds(clamping: seconds, to: 0.1...86_400) else {
                throw PluginEngineError("timeout must be a number of seconds between 0.1 and 86400, not \(seconds)")
            }
            options.setupTimeout = timeout
        }
        options.restart = call.argument(3, "restart")?.boolValue ?? false
        options.webPythonOnEngine = call.argument(4, "on_engine")?.boolValue ?? false
        let hostName = call.argument(5, "host")?.stringValue
        if let host = try chooseHost(named: hostName, plugin: plugin, caller: caller) {
            return try await startOnHost(host, plugin: plugin, caller: caller, options: options)
        }
        guard let supervisor else {
            throw PluginEngineError(
                "This engine runs no native-python plugins (it was started with --no-plugins, or without the Python "
                    + "runtime) and no worker is connected; restart it without --no-plugins, or start `imjoy worker`")
        }
        return .encoded(try await supervisor.start(plugin, owner: caller, options: options))
    }

    func appConfig(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        .object(["pyodide_url": .string(engine.configuration.pyodideURL)])
    }

    func stop(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let name = call.argument(0, "name")?.stringValue else { throw PluginEngineError("stop needs a plugin name") }
        try requireWrite(caller)
        if let (placement, host) = await remotePlacement(name, caller: caller) {
            _ = try await engine.callHost(host, "stop", [.string(Address.client(of: placement.pluginAddress))], timeout: .seconds(60))
            engine.hosts.unplace(placement.pluginAddress)
            return .null
        }
        guard let supervisor else { throw PluginEngineError("No plugin named '\(name)' is running (this engine runs none)") }
        try await supervisor.stop(name: name, caller: caller)
        return .null
    }

    func list(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        let running = await supervisor?.instances(in: caller.workspace) ?? []
        var seen = Set<String>()
        var rows: [RPCValue] = []
        for record in try await store.plugins(in: caller.workspace) {
            guard let plugin = try? PluginLoader.load(record.source, tag: record.tag) else { continue }
            seen.insert(plugin.config.id)
            let mine = running.filter { $0.current.plugin.config.id == plugin.config.id }
            guard case .object(var object) = row(plugin, instances: mine, installed: true) else { continue }
            object["enabled"] = .bool(record.enabled)
            object["origin"] = record.origin.map { .string($0) } ?? .null
            object["tag"] = record.tag.map { .string($0) } ?? .null
            object["installed_at"] = .double(record.installedAt.timeIntervalSince1970)
            object["updated_at"] = .double(record.updatedAt.timeIntervalSince1970)
            rows.append(.object(object))
        }
        for placement in engine.hosts.placements(in: caller.workspace) {
            let hostState = engine.hosts.host(named: placement.hostName, in: caller.workspace)?.online == true ? "running" : "offline"
            if let index = rows.firstIndex(where: { $0["name"]?.stringValue == placement.pluginName }),
                case .object(var object) = rows[index]
            {
                object["host"] = .string(placement.hostName)
                if object["state"]?.stringValue == "stopped" { object["state"] = .string(hostState) }
                rows[index] = .object(object)
            } else {
                rows.append(
                    .object([
                        "name": .string(placement.pluginName), "installed": .bool(false), "host": .string(placement.hostName),
                        "state": .string(hostState), "instances": .array([]),
                    ]))
            }
        }
        for instance in running where !seen.contains(instance.current.plugin.config.id) {
            seen.insert(instance.current.plugin.config.id)
            let same = running.filter { $0.current.plugin.config.id == instance.current.plugin.config.id }
            rows.append(row(instance.current.plugin, instances: same, installed: false))
        }
        return .array(rows)
    }

    func logs(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let name = call.argument(0, "name")?.stringValue else { throw PluginEngineError("logs needs a plugin name") }
        let since = call.argument(1, "since")?.intValue ?? 0
        let limit = max(1, min(call.argument(2, "limit")?.intValue ?? 500, 5000))
        if let (placement, host) = await remotePlacement(name, caller: caller) {
            return try await engine.callHost(
                host, "logs", [.string(Address.client(of: placement.pluginAddress)), .int(Int64(since)), .int(Int64(limit))],
                timeout: .seconds(30))
        }
        guard let supervisor else { throw PluginEngineError("No plugin named '\(name)' has run (this engine runs none)") }
        let instance = try await supervisor.find(name, caller: caller)
        return instance.logRows(since: since, limit: limit)
    }

    func status(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let name = call.argument(0, "name")?.stringValue else { throw PluginEngineError("status needs a plugin name") }
        if let (placement, host) = await remotePlacement(name, caller: caller) {
            guard case .object(var row) = try await engine.callHost(
                host, "status", [.string(Address.client(of: placement.pluginAddress))], timeout: .seconds(30))
            else { throw PluginEngineError("Host '\(host.name)' answered status with no status") }
            row["host"] = .string(host.name)
            return .object(row)
        }
        guard let supervisor else { throw PluginEngineError("No plugin named '\(name)' has run (this engine runs none)") }
        var row = try await supervisor.find(name, caller: caller).statusRow
        if case .object(var object) = row {
            object["host"] = .string(Self.localHostName)
            row = .object(object)
        }
        return row
    }

    // MARK: - Helpers

    func load(_ text: String, tag: String?) throws -> Plugin {
        do {
            return try PluginLoader.load(text, tag: tag)
        } catch {
            throw PluginEngineError("The plugin could not be loaded with tag \(tag ?? "-"): \(error.description)")
        }
    }

    func requireWrite(_ caller: PluginOwner) throws {
        guard let permission = caller.user.permission(in: caller.workspace), permission >= .readWrite else {
            throw PluginEngineError(
                "Permission denied: changing workspace \(caller.workspace) (installing, starting, saving) needs "
                    + "read_write permission, and this connection has \(caller.user.permission(in: caller.workspace)?.name ?? "none"); "
                    + "ask the workspace's owner for a read_write token (generate_token)")
        }
    }

    static func looksLikeSource(_ text: String) -> Bool {
        text.contains("<config") || text.contains("<script")
    }

    func summary(_ plugin: Plugin) -> RPCValue {
        .object([
            "name": .string(plugin.config.name), "id": .string(plugin.config.id), "type": .string(plugin.config.type.rawValue),
            "version": .string(plugin.config.version), "tags": .array(plugin.config.tags.map { .string($0) }),
            "tag": plugin.config.tag.map { .string($0) } ?? .null,
            "description": plugin.config.description.map { .string($0) } ?? .null,
            "warnings": .array(plugin.warnings.map { .string($0.description) }),
        ])
    }

    private func row(_ plugin: Plugin, instances: [PluginInstance], installed: Bool) -> RPCValue {
        guard case .object(var object) = summary(plugin) else { return .null }
        object["installed"] = .bool(installed)
        object["instances"] = .array(instances.map(\.statusRow))
        object["state"] = .string(instances.first(where: { $0.state.isActive })?.state.name ?? instances.first?.state.name ?? "stopped")
        object["form"] = Self.form(plugin.config.ui)
        object["inputs"] = plugin.config.inputs?.rpcValue ?? .null
        return .object(object)
    }

    /// The plugin's `ui` string as form segments for the web app: `{text}` or `{id, type, options, default}`.
    static func form(_ ui: String) -> RPCValue {
        guard !ui.isEmpty, let form = try? UIForm.parse(ui) else { return .null }
        return .array(
            form.segments.map { segment in
                switch segment {
                case .text(let text): return .object(["text": .string(text)])
                case .widget(let widget):
                    return .object([
                        "id": widget.id.map { .string($0) } ?? .null, "type": .string(widget.kind.rawValue),
                        "options": widget.options.rpcValue, "default": widget.defaultValue?.rpcValue ?? .null,
                    ])
                }
            })
    }
}
