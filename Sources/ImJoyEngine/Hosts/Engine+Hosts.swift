#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC
import Logging
import MessagePack

extension Engine {
    /// A worker registered its `plugin-host` service: list it, and adopt the plugins it already runs (after an
    /// engine restart, or a reconnection, they are still running there).
    func hostRegistered(_ entry: ServiceEntry, name: String) {
        let host = hosts.hostRegistered(
            name: name, workspace: entry.workspace, address: entry.providerAddress, serviceID: entry.serviceID)
        logger.info("Plugin host online", metadata: ["host.name": "\(name)", "workspace.id": "\(entry.workspace)"])
        Task {
            do {
                let info = try await callHost(host, "info", timeout: .seconds(30))
                hosts.setGPUCount(info["gpus"]?.arrayValue?.count ?? 0, name: name, workspace: entry.workspace)
                let rows = try await callHost(host, "list", timeout: .seconds(30))
                for row in rows.arrayValue ?? [] {
                    guard let clientID = row["client_id"]?.stringValue, let pluginName = row["name"]?.stringValue,
                        row["active"]?.boolValue ?? true
                    else { continue }
                    hosts.place(
                        HostDirectory.Placement(
                            pluginName: pluginName, pluginAddress: "\(entry.workspace)/\(clientID)", hostName: name,
                            workspace: entry.workspace, ownerAddress: row["owner"]?.stringValue ?? "",
                            allowsDetach: row["allow_detach"]?.boolValue ?? false))
                }
            } catch {
                logger.warning("Could not list the plugins of a host", metadata: ["host.name": "\(name)", "error": "\(error)"])
            }
        }
    }

    /// Calls `method` of a host's `plugin-host` service.
    func callHost(
        _ host: HostDirectory.Host, _ method: String, _ arguments: [RPCValue] = [], timeout: Duration
    ) async throws -> RPCValue {
        guard hosts.host(named: host.name, in: host.workspace)?.online ?? false else {
            throw PluginEngineError(
                "Host offline: '\(host.name)' is not connected to the engine; start `imjoy worker` on it again, or "
                    + "wait until it reconnects")
        }
        return try await managerPeer.call(
            target: host.address, method: "services.\(host.serviceID).\(method)", arguments: arguments, timeout: timeout)
    }

    /// Stops the plugins on workers that the client at `address` started (it left), except `allow-detach` ones.
    func stopHostedPlugins(ownedBy address: String) async {
        for placement in hosts.placements(in: Address.workspace(of: address))
        where placement.ownerAddress == address && !placement.allowsDetach {
            guard let host = hosts.host(named: placement.hostName, in: placement.workspace) else { continue }
            _ = try? await callHost(host, "stop", [.string(Address.client(of: placement.pluginAddress))], timeout: .seconds(30))
            hosts.unplace(placement.pluginAddress)
        }
    }
}
