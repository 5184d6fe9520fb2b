#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// The plugin hosts the engine knows besides itself: `imjoy worker`s that registered a `plugin-host` service in
/// a workspace, and the plugins started on them. A host that disconnects stays listed (offline) so calls to its
/// plugins fail with a clear "host offline" error until it comes back.
final class HostDirectory: Sendable {
    /// The type a worker's host service registers with.
    static let serviceType = "plugin-host"

    struct Host: Sendable {
        var name: String
        var workspace: String
        /// The worker's client address (`<workspace>/<client id>`).
        var address: String
        var serviceID: String
        var online: Bool
        /// When it came online, or went offline.
        var since: Date
        /// GPUs it reported (`info().gpus`).
        var gpuCount = 0
    }

    /// A plugin running on a worker.
    struct Placement: Sendable {
        var pluginName: String
        /// The plugin process's client address.
        var pluginAddress: String
        var hostName: String
        var workspace: String
        var ownerAddress: String
        var allowsDetach: Bool
    }

    private struct State {
        var hosts: [String: Host] = [:]  // by "<workspace>/<name>"
        var placements: [String: Placement] = [:]  // by plugin address
        /// Placements removed in the last minute, with when, so a host's last events about them still count.
        var unplaced: [String: (placement: Placement, at: Date)] = [:]
    }

    /// How long a host's events about a plugin it no longer runs are still passed on (its last "stopped").
    static let unplacedGrace: TimeInterval = 60

    private let state = Mutex(State())

    /// A worker registered its host service; returns the host, online.
    @discardableResult
    func hostRegistered(name: String, workspace: String, address: String, serviceID: String) -> Host {
        let host = Host(name: name, workspace: workspace, address: address, serviceID: serviceID, online: true, since: Date())
        state.withLock { $0.hosts["\(workspace)/\(name)"] = host }
        return host
    }

    /// Notes what `info()` of a host reported.
    func setGPUCount(_ count: Int, name: String, workspace: String) {
        state.withLock { $0.hosts["\(workspace)/\(name)"]?.gpuCount = count }
    }

    func hasGPU(_ host: Host) -> Bool {
        state.withLock { ($0.hosts["\(host.workspace)/\(host.name)"]?.gpuCount ?? 0) > 0 }
    }

    /// A connection left; returns the hosts it served (now offline).
    @discardableResult
    func connectionLeft(_ address: String) -> [Host] {
        state.withLock { state in
            var gone: [Host] = []
            for (key, host) in state.hosts where host.address == address && host.online {
                state.hosts[key]?.online = false
                state.hosts[key]?.since = Date()
                gone.append(host)
            }
            return gone
        }
    }

    func hosts(in workspace: String) -> [Host] {
        state.withLock { $0.hosts.values.filter { $0.workspace == workspace }.sorted { $0.name < $1.name } }
    }

    func host(named name: String, in workspace: String) -> Host? {
        state.withLock { $0.hosts["\(workspace)/\(name)"] }
    }

    func place(_ placement: Placement) {
        state.withLock { $0.placements[placement.pluginAddress] = placement }
    }

    func unplace(_ pluginAddress: String) {
        let now = Date()
        state.withLock { state in
            state.unplaced = state.unplaced.filter { now.timeIntervalSince($0.value.at) < Self.unplacedGrace }
            if let placement = state.placements.removeValue(forKey: pluginAddress) {
                state.unplaced[pluginAddress] = (placement, now)
            }
        }
    }

    /// The placement of the plugin at `pluginAddress` on the host named `hostName`, also when it was removed
    /// less than a minute ago: what that host may report events about.
    func placement(of pluginAddress: String, onHost hostName: String, in workspace: String) -> Placement? {
        state.withLock { state in
            if let placement = state.placements[pluginAddress] {
                return placement.hostName == hostName && placement.workspace == workspace ? placement : nil
            }
            guard let (placement, at) = state.unplaced[pluginAddress],
                Date().timeIntervalSince(at) < Self.unplacedGrace, placement.hostName == hostName,
                placement.workspace == workspace
            else { return nil }
            return placement
        }
    }

    func placements(in workspace: String) -> [Placement] {
        state.withLock { $0.placements.values.filter { $0.workspace == workspace }.sorted { $0.pluginAddress < $1.pluginAddress } }
    }

    /// Placements of plugins on the host named `hostName` in `workspace`.
    func placements(onHost hostName: String, in workspace: String) -> [Placement] {
        placements(in: workspace).filter { $0.hostName == hostName }
    }

    /// Why `pluginAddress` cannot be reached, when it is a plugin on a host that is offline.
    func offlineReason(for pluginAddress: String) -> String? {
        state.withLock { state in
            if let host = state.hosts.values.first(where: { $0.address == pluginAddress && !$0.online }) {
                return "Host offline: '\(host.name)' lost its connection to the engine "
                    + "\(Int(Date().timeIntervalSince(host.since).rounded())) s ago"
            }
            guard let placement = state.placements[pluginAddress],
                let host = state.hosts["\(placement.workspace)/\(placement.hostName)"], !host.online
            else { return nil }
            let seconds = Int(Date().timeIntervalSince(host.since).rounded())
            return "Host offline: plugin '\(placement.pluginName)' runs on host '\(host.name)', which lost its "
                + "connection to the engine \(seconds) s ago; calls to it fail until the worker reconnects "
                + "(it does so by itself when the network or the engine is back)"
        }
    }
}
