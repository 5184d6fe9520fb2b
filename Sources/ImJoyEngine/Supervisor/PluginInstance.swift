#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyCore
import ImJoyRPC
import Synchronization

/// Who asked for a plugin: its address (the plugin stops when it leaves, unless `allow-detach`) and user.
public struct PluginOwner: Sendable {
    public var address: String
    public var user: UserInfo

    public var workspace: String { Address.workspace(of: address) }
    public var clientID: String { Address.client(of: address) }

    public init(address: String, user: UserInfo) {
        self.address = address
        self.user = user
    }
}

/// One supervised plugin (kept across restarts, so its log and history survive them).
final class PluginInstance: Sendable {
    struct Snapshot: Sendable {
        var plugin: Plugin
        var owner: PluginOwner
        var state: PluginState
        var phaseSince: ContinuousClock.Instant
        var process: ChildProcess?
        var tracker: CallTracker?
        var startedAt: Date?
        var startSeconds: Double?
        var environment: PreparedEnvironment?
        var lastExit: ExitStatus?
        /// Counts starts, so events of an old process are not taken for the current one.
        var generation: Int
    }

    let workspace: String
    let signature: String
    /// The plugin process's client id and the service it registers.
    let clientID: String
    let serviceID: String
    let log: PluginLog
    private let snapshot: Mutex<Snapshot>

    private let onStateChange: @Sendable (PluginInstance) -> Void

    /// - Parameters:
    ///   - onLog: hears every log line as it is added.
    ///   - onStateChange: hears every state change (after it happened).
    init(
        plugin: Plugin, owner: PluginOwner, signature: String, clientID: String, logCapacity: Int,
        onLog: @escaping @Sendable (String, PluginLogEntry) -> Void = { _, _ in },
        onStateChange: @escaping @Sendable (PluginInstance) -> Void = { _ in }
    ) {
        self.workspace = owner.workspace
        self.signature = signature
        self.clientID = clientID
        self.serviceID = ServiceName.id(forPlugin: plugin.config.name)
        let name = plugin.config.name
        self.log = PluginLog(capacity: logCapacity) { entry in onLog(name, entry) }
        self.onStateChange = onStateChange
        self.snapshot = Mutex(
            Snapshot(
                plugin: plugin, owner: owner, state: .stopped, phaseSince: .now, generation: 0))
    }

    var address: String { "\(workspace)/\(clientID)" }
    var current: Snapshot { snapshot.withLock { $0 } }
    var state: PluginState { snapshot.withLock { $0.state } }
    var name: String { current.plugin.config.name }

    /// Moves to `next` if the state machine allows it; logs the change. Returns whether it moved.
    @discardableResult
    func move(to next: PluginState) -> Bool {
        let moved = snapshot.withLock { s -> Bool in
            guard s.state.canMove(to: next) else { return false }
            s.state = next
            s.phaseSince = .now
            return true
        }
        if moved {
            log.append(.engine, "state: \(next)")
            onStateChange(self)
        }
        return moved
    }

    /// Begins a new start: takes the plugin version and owner to run; returns the generation number.
    func beginStart(plugin: Plugin, owner: PluginOwner) -> Int? {
        let generation = snapshot.withLock { s -> Int? in
            switch s.state {
            case .stopped, .crashed, .failed, .restarting: break
            default: return nil
            }
            s.plugin = plugin
            s.owner = owner
            s.state = .starting(.environment)
            s.phaseSince = .now
            s.generation += 1
            s.startedAt = Date()
            s.startSeconds = nil
            s.process = nil
            s.tracker = nil
            return s.generation
        }
        if generation != nil {
            log.clearErrors()
            log.append(.engine, "state: starting (environment)")
            onStateChange(self)
        }
        return generation
    }

    func update(_ body: (inout Snapshot) -> Void) {
        snapshot.withLock { body(&$0) }
    }
}

/// How ImJoy names the service of a plugin: its name with spaces, dots, colons and slashes as `_`
/// (python/imjoy/api.py `service_id` does the same). An op registered with `api.register` is
/// `<plugin id>__<op id>`.
public enum ServiceName {
    public static func id(forPlugin name: String) -> String {
        String(name.map { " .:/".contains($0) ? "_" : $0 })
    }
}
