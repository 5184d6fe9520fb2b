import ImJoyCore
import MessagePack

extension Engine {
    /// Streams a plugin's log line to a workspace's subscribers: event `plugin_log` `{name, index, source, text}`
    /// (install output, phases with progress, the plugin's stdout and stderr), with `host` for a plugin on a worker.
    func publishPluginLog(name: String, entry: PluginLogEntry, in workspace: String, host: String? = nil) {
        var data: MessagePackMap = [
            "name": .string(name), "index": .int(Int64(entry.index)), "source": .string(entry.source.rawValue),
            "text": .string(entry.text),
        ]
        if let host { data["host"] = .string(host) }
        router.broadcast(MessageRouter.event("plugin_log", data: .map(data)), type: "plugin_log", in: workspace)
    }
}

extension Engine {
    /// Tells a workspace's subscribers about an installed-plugin change (`plugin_installed`, `plugin_uninstalled`).
    func broadcastPluginEvent(_ type: String, _ data: MessagePackMap, in workspace: String) {
        router.broadcast(MessageRouter.event(type, data: .map(data)), type: type, in: workspace)
    }
}
