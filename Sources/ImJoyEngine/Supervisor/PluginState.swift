/// The step a starting plugin is in; a start that hangs names it.
public enum StartPhase: String, Sendable, CaseIterable {
    /// Building or finding its Python environment (and running `repo:` / `cmd:` requirements).
    case environment
    /// The process was launched and has not reported yet.
    case processStart = "process start"
    /// The runtime connects to the engine.
    case handshake
    /// The plugin's script runs and its `setup()` is awaited.
    case setup = "setup()"
}

/// Where a supervised plugin is in its life:
/// `starting → running → stopping → stopped`, `running → crashed`, `crashed/stopped/failed → restarting → starting`.
public enum PluginState: Sendable, Hashable, CustomStringConvertible {
    case starting(StartPhase)
    case running
    case stopping
    case stopped
    /// The process ended while running, on its own.
    case crashed(String)
    /// The start failed (the message says where and why).
    case failed(String)
    case restarting

    /// The state's name as the API reports it.
    public var name: String {
        switch self {
        case .starting: return "starting"
        case .running: return "running"
        case .stopping: return "stopping"
        case .stopped: return "stopped"
        case .crashed: return "crashed"
        case .failed: return "failed"
        case .restarting: return "restarting"
        }
    }

    public var description: String {
        switch self {
        case .starting(let phase): return "starting (\(phase.rawValue))"
        case .crashed(let reason): return "crashed: \(reason)"
        case .failed(let reason): return "failed: \(reason)"
        default: return name
        }
    }

    /// Whether the process may still be alive.
    public var isActive: Bool {
        switch self {
        case .starting, .running, .stopping, .restarting: return true
        case .stopped, .crashed, .failed: return false
        }
    }

    /// Whether the state machine allows going from `self` to `next`.
    public func canMove(to next: PluginState) -> Bool {
        switch (self, next) {
        case (.starting(let a), .starting(let b)):
            return StartPhase.allCases.firstIndex(of: b)! > StartPhase.allCases.firstIndex(of: a)!
        case (.starting, .running), (.starting, .failed), (.starting, .stopping): return true
        case (.running, .stopping), (.running, .crashed): return true
        case (.stopping, .stopped): return true
        case (.stopped, .restarting), (.crashed, .restarting), (.failed, .restarting): return true
        case (.restarting, .starting): return true
        default: return false
        }
    }
}
