#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyCore
import ImJoyRPC
import Logging
import MessagePack

/// Installing, updating and removing plugins (IMJOY-PLUGINS.md §5.3), stored in the engine's database.
extension PluginEngineService {
    func installer(for caller: PluginOwner) -> PluginInstaller {
        PluginInstaller(fetcher: fetcher, allowsLocalFiles: caller.user.isEngineOwner)
    }

    func install(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let source = call.argument(0, "source")?.stringValue, !source.isEmpty else {
            throw PluginEngineError(
                "install needs the plugin source text, a URL / plugin URI, or a name with repository=<manifest URL>")
        }
        try requireWrite(caller)
        let tag = call.argument(1, "tag")?.stringValue
        let repository = call.argument(2, "repository")?.stringValue
        let reinstall = call.argument(3, "reinstall")?.boolValue ?? false
        let installer = installer(for: caller)
        if installer.allowsLocalFiles, let files = PluginInstaller.pluginFiles(inFolder: Self.localPath(source)) {
            guard !files.isEmpty else { throw PluginEngineError("The folder \(source) holds no .imjoy.html files") }
            var summaries: [RPCValue] = []
            for file in files {
                let plugin = try await installResolved(
                    try await installer.resolve(file, tag: nil, repository: repository), caller: caller,
                    reinstall: reinstall)
                summaries.append(summary(plugin))
            }
            return .array(summaries)
        }
        let resolved = try await installer.resolve(source, tag: tag, repository: repository)
        let plugin = try await installResolved(resolved, caller: caller, reinstall: reinstall)
        guard case .object(var object) = summary(plugin) else { return .null }
        object["dependencies_installed"] = .array(resolved.dropLast().map { .string($0.plugin.config.name) })
        return .object(object)
    }

    /// Stores resolved plugins (dependencies and the plugin) in one transaction; refuses a downgrade unless
    /// `reinstall`. Returns the last one (the plugin asked for).
    func installResolved(_ resolved: [PluginInstaller.Resolved], caller: PluginOwner, reinstall: Bool) async throws -> Plugin {
        guard let main = resolved.last else { throw PluginEngineError("Nothing to install") }
        let workspace = caller.workspace
        var records: [InstalledPluginRecord] = []
        for item in resolved {
            let existing = try await store.plugin(item.plugin.config.id, in: workspace)
            if let existing, item.plugin.config.id == main.plugin.config.id, !reinstall,
                PluginVersion.isOlder(item.plugin.config.version, than: existing.version)
            {
                throw PluginEngineError(
                    "\(existing.name) \(existing.version) is installed and this is version \(item.plugin.config.version); "
                        + "pass reinstall=True to install the older version")
            }
            if let existing, item.plugin.config.id != main.plugin.config.id,
                !PluginVersion.isOlder(existing.version, than: item.plugin.config.version)
            {
                continue  // a dependency that is already installed at this version or newer stays as it is
            }
            records.append(
                InstalledPluginRecord(
                    workspace: workspace, id: item.plugin.config.id, name: item.plugin.config.name,
                    version: item.plugin.config.version, type: item.plugin.config.type.rawValue, tag: item.tag,
                    origin: item.origin ?? existing?.origin, source: item.text, enabled: existing?.enabled ?? true,
                    installedAt: existing?.installedAt ?? Date()))
        }
        let temporary = await engine.workspaces.workspace(workspace)?.temporary ?? true
        try await store.install(records, owner: caller.user.id, temporary: temporary)
        for record in records {
            engine.logger.info(
                "Plugin installed",
                metadata: ["workspace.id": "\(workspace)", "plugin": "\(record.name)", "version": "\(record.version)"])
            engine.broadcastPluginEvent(
                "plugin_installed", ["name": .string(record.name), "version": .string(record.version)], in: workspace)
        }
        return main.plugin
    }

    func uninstall(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        let record = try await installedRecord(call, caller, action: "uninstall")
        try await supervisor?.stop(name: record.name, caller: caller, ifRunning: true)
        try await store.uninstall(record.id, in: caller.workspace)
        engine.broadcastPluginEvent("plugin_uninstalled", ["name": .string(record.name)], in: caller.workspace)
        return .null
    }

    func update(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        try await refetch(call, caller, reinstall: false)
    }

    func reinstall(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        try await refetch(call, caller, reinstall: true)
    }

    private func refetch(_ call: RPCCall, _ caller: PluginOwner, reinstall: Bool) async throws -> RPCValue {
        let record = try await installedRecord(call, caller, action: reinstall ? "reinstall" : "update")
        guard let origin = record.origin else {
            throw PluginEngineError(
                "\(record.name) was installed from pasted source text, so there is nowhere to fetch it from; "
                    + "install the new source instead")
        }
        let resolved = try await installer(for: caller).resolve(origin, tag: record.tag, repository: nil)
        guard let fetched = resolved.last else { return .null }
        let newer = PluginVersion.isOlder(record.version, than: fetched.plugin.config.version)
        guard reinstall || newer else {
            return .object([
                "name": .string(record.name), "updated": false, "version": .string(record.version),
                "available": .string(fetched.plugin.config.version),
                "reason": .string("\(record.name) \(record.version) is up to date (\(origin) has \(fetched.plugin.config.version))"),
            ])
        }
        let plugin = try await installResolved(resolved, caller: caller, reinstall: true)
        return .object([
            "name": .string(plugin.config.name), "updated": true, "previous_version": .string(record.version),
            "version": .string(plugin.config.version),
        ])
    }

    func enable(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        let record = try await installedRecord(call, caller, action: "enable")
        try await store.setEnabled(true, plugin: record.id, in: caller.workspace)
        return .null
    }

    func disable(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        let record = try await installedRecord(call, caller, action: "disable")
        try await store.setEnabled(false, plugin: record.id, in: caller.workspace)
        return .null
    }

    /// The parts a browser plugin is built from: config summary, script, `<window>`, styles, JS/CSS requirements.
    func loadPlugin(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let name = call.argument(0, "name")?.stringValue else { throw PluginEngineError("load_plugin needs a plugin name") }
        guard let record = try await store.plugin(name, in: caller.workspace) else {
            throw PluginEngineError("No plugin named '\(name)' is installed in workspace \(caller.workspace)")
        }
        guard record.enabled else {
            throw PluginEngineError("'\(record.name)' is disabled in workspace \(caller.workspace); enable it first")
        }
        let plugin = try load(record.source, tag: call.argument(1, "tag")?.stringValue ?? record.tag)
        guard case .object(var object) = summary(plugin) else { return .null }
        object["script"] = .string(plugin.scripts.map(\.content).joined(separator: "\n"))
        object["lang"] = .string(plugin.language)
        object["window"] = plugin.window.map { .string($0.content) } ?? .null
        object["styles"] = .array(plugin.styles.map { .string($0.content) })
        var scripts: [RPCValue] = []
        var stylesheets: [RPCValue] = []
        var packages: [RPCValue] = []
        for requirement in plugin.config.requirements {
            switch requirement {
            case .script(let url), .module(let url): scripts.append(.string(url))
            case .stylesheet(let url): stylesheets.append(.string(url))
            case .pip(let name), .pythonPackage(let name): packages.append(.string(name))
            default: break
            }
        }
        object["scripts"] = .array(scripts)
        object["stylesheets"] = .array(stylesheets)
        object["python_packages"] = .array(packages)
        object["form"] = Self.form(plugin.config.ui)
        return .object(object)
    }

    func getSource(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let name = call.argument(0, "name")?.stringValue else { throw PluginEngineError("get_source needs a plugin name") }
        guard let record = try await store.plugin(name, in: caller.workspace) else {
            throw PluginEngineError("No plugin named '\(name)' is installed in workspace \(caller.workspace)")
        }
        return .string(record.source)
    }

    private func installedRecord(_ call: RPCCall, _ caller: PluginOwner, action: String) async throws -> InstalledPluginRecord {
        guard let name = call.argument(0, "name")?.stringValue else { throw PluginEngineError("\(action) needs a plugin name") }
        try requireWrite(caller)
        guard let record = try await store.plugin(name, in: caller.workspace) else {
            throw PluginEngineError(
                "No plugin named '\(name)' is installed in workspace \(caller.workspace) (list() shows what is)")
        }
        return record
    }

    static func localPath(_ source: String) -> String {
        source.hasPrefix("file://") ? String(source.dropFirst(7)) : source
    }
}
