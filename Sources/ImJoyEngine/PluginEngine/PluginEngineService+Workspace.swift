#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyCore
import ImJoyRPC
import MessagePack

/// A workspace's saved state beyond its plugins: plugin settings, workflows, window layout, repositories, and
/// export / import of the whole workspace as one file.
extension PluginEngineService {
    typealias Member = @Sendable (RPCCall, PluginOwner) async throws -> RPCValue

    func addWorkspaceMembers(_ add: (String, String, @escaping Member) -> Void) {
        add("get_config", "A plugin's saved settings: get_config(plugin, key=None).", getConfig)
        add("set_config", "Save a plugin setting: set_config(plugin, key, value) or set_config(plugin, {key: value}).", setConfig)
        add("list_workflows", "The workflows saved in your workspace.", listWorkflows)
        add("save_workflow", "Save a workflow (its JSON definition) under its name.", saveWorkflow)
        add("load_workflow", "A saved workflow's definition.", loadWorkflow)
        add("remove_workflow", "Delete a saved workflow.", removeWorkflow)
        add("get_layout", "The saved window layout of your workspace.", getLayout)
        add("set_layout", "Save the window layout of your workspace.", setLayout)
        add("export_workspace", "Your workspace as one document: plugins, settings, workflows, layout.", exportWorkspace)
        add("import_workspace", "Create a workspace from an exported document (engine owner only).", importWorkspace)
        add("list_repositories", "Plugin repositories to install from (manifest URLs).", listRepositories)
        add("add_repository", "Add a plugin repository (owner/repo, a GitHub URL or a manifest URL).", addRepository)
        add("remove_repository", "Remove a plugin repository by URL or name.", removeRepository)
        add("get_repository", "The plugins a repository offers (its manifest's entries).", getRepository)
    }

    // MARK: - Settings

    func getConfig(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let plugin = call.argument(0, "plugin")?.stringValue else { throw PluginEngineError("get_config needs the plugin name") }
        let values = try await store.config(of: plugin, in: caller.workspace)
        if let key = call.argument(1, "key")?.stringValue {
            return values[key].map(Self.decoded) ?? .null
        }
        return .object(RPCObject(values.sorted { $0.key < $1.key }.map { ($0.key, Self.decoded($0.value)) }))
    }

    func setConfig(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let plugin = call.argument(0, "plugin")?.stringValue else { throw PluginEngineError("set_config needs the plugin name") }
        try requireWrite(caller)
        var values: [String: String?] = [:]
        if let object = call.argument(1, "key")?.objectValue {
            for (key, value) in object { values[key] = value.isNull ? String?.none : Self.encoded(value) }
        } else if let key = call.argument(1, "key")?.stringValue {
            let value = call.argument(2, "value") ?? .null
            values[key] = value.isNull ? String?.none : Self.encoded(value)
        } else {
            throw PluginEngineError("set_config needs a key and a value, or an object of keys and values")
        }
        let size = values.values.reduce(0) { $0 + ($1?.utf8.count ?? 0) }
        guard size <= 1 << 20 else {
            throw PluginEngineError("Settings of \(size) bytes are over the 1 MiB limit; store large data in files")
        }
        try await store.setConfig(values, of: plugin, in: caller.workspace, owner: caller.user.id, temporary: await isTemporary(caller))
        return .null
    }

    // MARK: - Workflows

    func listWorkflows(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        .array(
            try await store.workflows(in: caller.workspace).map { record in
                .object([
                    "name": .string(record.name), "saved_at": .double(record.savedAt.timeIntervalSince1970),
                    "workflow": Self.decoded(record.definition),
                ])
            })
    }

    func saveWorkflow(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        try requireWrite(caller)
        guard let value = call.argument(0, "workflow") ?? call.argument(1, "workflow") else {
            throw PluginEngineError("save_workflow needs the workflow: {\"name\": …, \"steps\": […]}")
        }
        let text = value.stringValue ?? Self.encoded(value)
        let workflow: Workflow
        do {
            workflow = try Workflow.parse(text)
        } catch {
            throw PluginEngineError("The workflow is not valid, nothing was saved: \(error.description)")
        }
        try await store.saveWorkflow(
            WorkflowRecord(name: workflow.name, definition: text), in: caller.workspace, owner: caller.user.id,
            temporary: await isTemporary(caller))
        return .string(workflow.name)
    }

    func loadWorkflow(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let name = call.argument(0, "name")?.stringValue else { throw PluginEngineError("load_workflow needs a name") }
        guard let record = try await store.workflows(in: caller.workspace).first(where: { $0.name == name }) else {
            throw PluginEngineError("No workflow named '\(name)' is saved in workspace \(caller.workspace)")
        }
        return Self.decoded(record.definition)
    }

    func removeWorkflow(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let name = call.argument(0, "name")?.stringValue else { throw PluginEngineError("remove_workflow needs a name") }
        try requireWrite(caller)
        guard try await store.removeWorkflow(name, in: caller.workspace) else {
            throw PluginEngineError("No workflow named '\(name)' is saved in workspace \(caller.workspace)")
        }
        return .null
    }

    // MARK: - Layout

    func getLayout(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        try await store.layout(of: caller.workspace).map(Self.decoded) ?? .null
    }

    func setLayout(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        try requireWrite(caller)
        let layout = call.argument(0, "layout") ?? .null
        let text = layout.isNull ? nil : Self.encoded(layout)
        guard (text?.utf8.count ?? 0) <= 1 << 20 else { throw PluginEngineError("A layout over 1 MiB is refused") }
        try await store.setLayout(text, of: caller.workspace, owner: caller.user.id, temporary: await isTemporary(caller))
        return .null
    }

    // MARK: - Export and import

    func exportWorkspace(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        let archive = try await store.archive(of: caller.workspace)
        var config = MessagePackMap()
        for (plugin, values) in archive.config.sorted(by: { $0.key < $1.key }) {
            config[plugin] = .map(MessagePackMap(values.sorted { $0.key < $1.key }.map { (.string($0.key), JSONText.value(from: $0.value) ?? .nil) }))
        }
        let document: MessagePackValue = [
            "format": "imjoy-workspace", "version": 1, "name": .string(archive.workspace.name),
            "description": .string(archive.workspace.description),
            "settings": JSONText.value(from: archive.workspace.settings) ?? [:],
            "plugins": .array(
                archive.plugins.map { plugin in
                    [
                        "name": .string(plugin.name), "version": .string(plugin.version),
                        "tag": plugin.tag.map { .string($0) } ?? .nil, "origin": plugin.origin.map { .string($0) } ?? .nil,
                        "enabled": .bool(plugin.enabled), "source": .string(plugin.source),
                    ]
                }),
            "config": .map(config),
            "workflows": .array(archive.workflows.map { JSONText.value(from: $0.definition) ?? .nil }),
            "layout": archive.layout.flatMap { JSONText.value(from: $0) } ?? .nil,
        ]
        return .encoded(document)
    }

    func importWorkspace(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard caller.user.isEngineOwner else {
            throw PluginEngineError(
                "Permission denied: importing creates a workspace, which needs the engine owner's admin token")
        }
        guard let argument = call.argument(0, "data") else { throw PluginEngineError("import_workspace needs the exported document") }
        let document: MessagePackValue
        if let text = argument.stringValue {
            guard let parsed = JSONText.value(from: text) else {
                throw PluginEngineError("The workspace file is not JSON; export one with export_workspace")
            }
            document = parsed
        } else {
            document = ValueCodec.encodePlain(argument)
        }
        guard document["format"]?.stringValue == "imjoy-workspace" else {
            throw PluginEngineError("This is not an exported workspace (its \"format\" is not \"imjoy-workspace\")")
        }
        guard let name = call.argument(1, "name")?.stringValue ?? document["name"]?.stringValue else {
            throw PluginEngineError("The workspace file has no name; pass name=…")
        }
        if let problem = ManagerService.workspaceNameProblem(name) {
            throw PluginEngineError("Invalid workspace name '\(name.prefix(80))': \(problem)")
        }
        var plugins: [InstalledPluginRecord] = []
        for (index, entry) in (document["plugins"]?.arrayValue ?? []).enumerated() {
            guard let source = entry["source"]?.stringValue else {
                throw PluginEngineError("plugins[\(index)] of the workspace file has no source")
            }
            let tag = entry["tag"]?.stringValue
            let plugin: Plugin
            do {
                plugin = try PluginLoader.load(source, tag: tag)
            } catch {
                throw PluginEngineError("plugins[\(index)] of the workspace file is not a valid plugin: \(error.description)")
            }
            plugins.append(
                InstalledPluginRecord(
                    workspace: name, id: plugin.config.id, name: plugin.config.name, version: plugin.config.version,
                    type: plugin.config.type.rawValue, tag: tag, origin: entry["origin"]?.stringValue, source: source,
                    enabled: entry["enabled"]?.boolValue ?? true))
        }
        var config: [String: [String: String]] = [:]
        for (plugin, values) in document["config"]?.mapValue ?? [:] {
            guard let plugin = plugin.stringValue else { continue }
            for (key, value) in values.mapValue ?? [:] {
                guard let key = key.stringValue else { continue }
                config[plugin, default: [:]][key] = JSONText.encode(value)
            }
        }
        var workflows: [WorkflowRecord] = []
        for (index, value) in (document["workflows"]?.arrayValue ?? []).enumerated() {
            let text = JSONText.encode(value)
            do {
                workflows.append(WorkflowRecord(name: try Workflow.parse(text).name, definition: text))
            } catch {
                throw PluginEngineError("workflows[\(index)] of the workspace file is not valid: \(error.description)")
            }
        }
        let layout = document["layout"].flatMap { $0 == .nil ? nil : JSONText.encode($0) }
        let record = WorkspaceRecord(
            name: name, description: document["description"]?.stringValue ?? "", owner: caller.user.id,
            settings: document["settings"].map(JSONText.encode) ?? "{}")
        try await store.importArchive(
            WorkspaceArchive(workspace: record, plugins: plugins, config: config, workflows: workflows, layout: layout))
        await engine.workspaces.ensureWorkspace(name, owner: caller.user.id, temporary: false)
        return .object([
            "name": .string(name), "plugins": .int(Int64(plugins.count)), "workflows": .int(Int64(workflows.count)),
        ])
    }

    // MARK: - Repositories

    /// The engine's own repository (this project's `plugins/`), listed first when the engine serves it.
    var builtInRepository: RepositoryRecord? {
        guard engine.configuration.pluginRepositoryDirectory != nil else { return nil }
        return RepositoryRecord(
            url: engine.publicBaseURL + "/plugins/manifest.imjoy.json", name: "ImJoy Swift plugins",
            description: "The plugins that come with this engine")
    }

    func listRepositories(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        let all = [builtInRepository].compactMap { $0 } + (try await store.repositories())
        return .array(
            all.map { .object(["url": .string($0.url), "name": .string($0.name), "description": .string($0.description)]) })
    }

    func addRepository(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard caller.user.isEngineOwner else {
            throw PluginEngineError("Permission denied: the repository list is the engine's; changing it needs the admin token")
        }
        guard let given = call.argument(0, "url")?.stringValue, !given.isEmpty else {
            throw PluginEngineError("add_repository needs owner/repo, a GitHub URL or a manifest URL")
        }
        let url = RepositoryManifest.manifestURL(for: given)
        let manifest = try await fetcher.manifest(at: url)
        let existing = try await store.repositories()
        var name = call.argument(1, "name")?.stringValue ?? manifest.name ?? given
        if existing.contains(where: { $0.name == name && $0.url != url }) { name = url }
        let record = RepositoryRecord(url: url, name: name, description: manifest.description ?? "")
        try await store.addRepository(record)
        return .object([
            "url": .string(url), "name": .string(name), "plugins": .int(Int64(manifest.plugins.count)),
        ])
    }

    func removeRepository(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard caller.user.isEngineOwner else {
            throw PluginEngineError("Permission denied: the repository list is the engine's; changing it needs the admin token")
        }
        guard let given = call.argument(0, "url")?.stringValue else { throw PluginEngineError("remove_repository needs a URL or name") }
        guard try await store.removeRepository(given) else {
            throw PluginEngineError("No repository '\(given)' is listed (list_repositories shows them)")
        }
        return .null
    }

    func getRepository(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        guard let given = call.argument(0, "url")?.stringValue else { throw PluginEngineError("get_repository needs a URL") }
        let manifest = try await fetcher.manifest(at: RepositoryManifest.manifestURL(for: given))
        return .object([
            "name": manifest.name.map { .string($0) } ?? .null,
            "description": manifest.description.map { .string($0) } ?? .null,
            "plugins": .array(
                manifest.plugins.map { entry in
                    .object([
                        "name": .string(entry.name), "type": entry.type.map { .string($0) } ?? .null,
                        "version": entry.version.map { .string($0) } ?? .null,
                        "description": entry.description.map { .string($0) } ?? .null,
                        "tags": .array(entry.tags.map { .string($0) }), "uri": .string(entry.uri),
                    ])
                }),
        ])
    }

    // MARK: - Helpers

    static func encoded(_ value: RPCValue) -> String {
        JSONText.encode(ValueCodec.encodePlain(value))
    }

    static func decoded(_ text: String) -> RPCValue {
        .encoded(JSONText.value(from: text) ?? .nil)
    }

    func isTemporary(_ caller: PluginOwner) async -> Bool {
        await engine.workspaces.workspace(caller.workspace)?.temporary ?? true
    }
}
