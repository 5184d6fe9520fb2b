#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyCore
import ImJoyRPC
import MessagePack

/// Where plugins run: the engine itself (host `local`) or a connected `imjoy worker`.
extension PluginEngineService {
    static let localHostName = "local"

    /// `hosts()`: the engine and the workers of the caller's workspace, `[{name, local, online, since, info?}]`.
    func hosts(_ call: RPCCall, _ caller: PluginOwner) async throws -> RPCValue {
        var rows: [RPCValue] = [
            .object([
                "name": .string(Self.localHostName), "local": .bool(true), "online": .bool(true),
                "runs_plugins": .bool(supervisor != nil),
                "info": HostResources.current(python: nil).rpcValue,
            ])
        ]
        for host in engine.hosts.hosts(in: caller.workspace) {
            var row: RPCObject = [
                "name": .string(host.name), "local": .bool(false), "online": .bool(host.online),
                "since": .double(host.since.timeIntervalSince1970), "runs_plugins": .bool(true),
                "plugins": .array(engine.hosts.placements(onHost: host.name, in: caller.workspace).map { .string($0.pluginName) }),
            ]
            if host.online, let info = try? await engine.callHost(host, "info", timeout: .seconds(10)) {
                row["info"] = info
            }
            rows.append(.object(row))
        }
        return .array(rows)
    }

    /// The worker a start goes to: the one named `name` (`nil` or `local`: the engine, unless it runs no
    /// plugins), else, for a plugin whose tag asks for a GPU, an online worker that has one.
    func chooseHost(named name: String?, plugin: Plugin, caller: PluginOwner) throws -> HostDirectory.Host? {
        let known = engine.hosts.hosts(in: caller.workspace)
        if let name, name != Self.localHostName {
            guard let host = known.first(where: { $0.name == name }) else {
                let names = ([Self.localHostName] + known.map { $0.online ? $0.name : "\($0.name) (offline)" })
                    .joined(separator: ", ")
                throw PluginEngineError(
                    "No host named '\(name)' in workspace \(caller.workspace) (hosts: \(names)); start "
                        + "`imjoy worker --name \(name)` on that machine with a worker token of this workspace")
            }
            guard host.online else {
                throw PluginEngineError(
                    "Host offline: '\(name)' is not connected to the engine (since "
                        + "\(Int(Date().timeIntervalSince(host.since))) s); start the plugin elsewhere or wait for it")
            }
            return host
        }
        if name == Self.localHostName { return nil }
        let online = known.filter(\.online)
        let wantsGPU = (plugin.config.tag ?? "").lowercased().contains("gpu")
            || plugin.config.tags.count == 1 && plugin.config.tags[0].lowercased().contains("gpu")
        if wantsGPU, let gpuHost = online.first(where: { engine.hosts.hasGPU($0) }) { return gpuHost }
        if supervisor == nil, let any = online.first { return any }
        return nil
    }

    /// Starts `plugin` on a worker; returns its service descriptor (the plugin registers with the engine like a
    /// local one, so calls to it are routed as any others).
    func startOnHost(_ host: HostDirectory.Host, plugin: Plugin, caller: PluginOwner, options: StartOptions)
        async throws -> RPCValue
    {
        let clientID = PluginSupervisor.pluginClientID(plugin, owner: caller)
        let token = try await engine.pluginToken(owner: caller.user, workspace: caller.workspace, clientID: clientID)
        var request: RPCObject = [
            "source": .string(plugin.code), "tag": plugin.config.tag.map { .string($0) } ?? .null,
            "client_id": .string(clientID), "token": .string(token), "owner": .string(caller.address),
            "workspace": .string(caller.workspace), "restart": .bool(options.restart),
        ]
        if let timeout = options.setupTimeout { request["timeout"] = .double(timeout.inSeconds) }
        let address = "\(caller.workspace)/\(clientID)"
        engine.hosts.place(
            HostDirectory.Placement(
                pluginName: plugin.config.name, pluginAddress: address, hostName: host.name, workspace: caller.workspace,
                ownerAddress: caller.address, allowsDetach: plugin.config.flags.contains("allow-detach")))
        do {
            _ = try await engine.callHost(host, "start", [.object(request)], timeout: .seconds(3 * 3600))
        } catch {
            engine.hosts.unplace(address)
            throw PluginEngineError("'\(plugin.config.name)' could not start on host '\(host.name)': \(Self.reason(error))")
        }
        return .encoded(
            try await engine.pluginDescriptor(
                workspace: caller.workspace, clientID: clientID, serviceID: ServiceName.id(forPlugin: plugin.config.name)))
    }

    /// Where stop, status and logs go for `name`: `nil` when the engine runs it itself (its own instance wins),
    /// else its placement on a worker, if any.
    func remotePlacement(_ name: String, caller: PluginOwner) async -> (HostDirectory.Placement, HostDirectory.Host)? {
        if let supervisor, (try? await supervisor.find(name, caller: caller)) != nil { return nil }
        return placement(name, caller: caller)
    }

    /// The placement of a plugin named `name` (name, id or service id) on a worker, for stop, status and logs.
    func placement(_ name: String, caller: PluginOwner) -> (HostDirectory.Placement, HostDirectory.Host)? {
        let serviceName = ServiceName.id(forPlugin: name)
        let candidates = engine.hosts.placements(in: caller.workspace).filter {
            $0.pluginName == name || ServiceName.id(forPlugin: $0.pluginName) == serviceName
        }
        guard let chosen = candidates.first(where: { $0.ownerAddress == caller.address }) ?? candidates.first,
            let host = engine.hosts.host(named: chosen.hostName, in: caller.workspace)
        else { return nil }
        return (chosen, host)
    }

    /// A remote error's message without hypha-style prefixes.
    static func reason(_ error: any Error) -> String {
        var text = (error as? RemoteError)?.message ?? (error as? PluginEngineError)?.message ?? "\(error)"
        for prefix in ["RemoteError: ", "Exception: "] where text.hasPrefix(prefix) { text.removeFirst(prefix.count) }
        return text
    }
}
