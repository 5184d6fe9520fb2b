#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC
import MessagePack

/// `report_plugin_events(events)`: an `imjoy worker` tells the engine what its plugins do (state changes, log
/// lines), and the engine passes it on to the workspace as the `plugin_status` and `plugin_log` events its own
/// plugins raise, so the web app's engine panel follows plugins on workers live.
extension ManagerService {
    /// Most events one call may carry (a worker sends what queued up since its last call).
    static let maxHostEventsPerCall = 1000
    /// Longer log lines from a worker are cut to this many characters.
    static let maxHostLogLineLength = 8192

    func reportPluginEvents(_ call: RPCCall, _ caller: ClientConnection) async throws -> RPCValue {
        guard let host = engine.hosts.hosts(in: caller.workspace).first(where: { $0.address == caller.address && $0.online })
        else {
            throw ManagerError(
                "report_plugin_events is for plugin hosts: \(caller.address) has not registered a service of type "
                    + "plugin-host in \(caller.workspace) (`imjoy worker` does)")
        }
        guard let events = call.argument(0, "events")?.arrayValue else {
            throw ManagerError("report_plugin_events takes a list of events, e.g. [{\"kind\": \"status\", \"client_id\": …}]")
        }
        guard events.count <= Self.maxHostEventsPerCall else {
            throw ManagerError(
                "report_plugin_events got \(events.count) events; send at most \(Self.maxHostEventsPerCall) per call")
        }
        var accepted = 0
        for event in events {
            // Only about plugins the engine placed on this host: a worker cannot speak for other plugins.
            guard let clientID = event["client_id"]?.stringValue,
                let placement = engine.hosts.placement(
                    of: "\(host.workspace)/\(clientID)", onHost: host.name, in: host.workspace)
            else { continue }
            switch event["kind"]?.stringValue {
            case "status":
                guard let state = event["state"]?.stringValue else { continue }
                engine.pluginStatusChanged(
                    PluginStatusEvent(
                        name: placement.pluginName, clientID: clientID, workspace: host.workspace, state: state,
                        phase: event["phase"]?.stringValue, error: event["error"]?.stringValue, host: host.name))
            case "log":
                guard let text = event["text"]?.stringValue,
                    let source = event["source"]?.stringValue.flatMap(PluginLogEntry.Source.init(rawValue:))
                else { continue }
                let entry = PluginLogEntry(
                    index: event["index"]?.intValue ?? 0,
                    time: Date(timeIntervalSince1970: event["time"]?.doubleValue ?? Date().timeIntervalSince1970),
                    source: source, text: String(text.prefix(Self.maxHostLogLineLength)))
                engine.publishPluginLog(name: placement.pluginName, entry: entry, in: host.workspace, host: host.name)
            default:
                continue
            }
            accepted += 1
        }
        return .object(["accepted": .int(Int64(accepted))])
    }
}
