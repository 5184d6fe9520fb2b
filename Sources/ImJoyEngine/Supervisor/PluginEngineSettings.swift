#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Settings of the native-python plugin engine (environments, processes, timeouts).
public struct PluginEngineSettings: Sendable {
    /// The folder holding the Python runtime package (`imjoy/`, `imjoy_rpc/`), put on each plugin's `PYTHONPATH`.
    public var runtimeDirectory: URL
    /// Packages every plugin environment gets besides the plugin's own requirements.
    public var runtimeRequirements: [String]
    public var environments: EnvironmentSettings
    /// Plugins' working directories, one per workspace (`WORK_DIR`, where `repo:` and `cmd:` requirements run).
    public var workDirectory: URL
    /// Per-plugin files the runner reads (script, settings, config).
    public var runDirectory: URL
    /// Installed plugin sources, one folder per workspace.
    public var installedDirectory: URL
    /// The environment plugin processes start with (PATH, HOME …), passed down by the CLI.
    public var processEnvironment: [String: String]
    /// Longest time for each start phase; `setup` can be given per start.
    public var environmentTimeout: Duration
    public var processStartTimeout: Duration
    public var handshakeTimeout: Duration
    public var setupTimeout: Duration
    /// Time a plugin gets between SIGTERM and SIGKILL.
    public var stopGracePeriod: Duration
    /// Lines kept per plugin log.
    public var logCapacity: Int

    public init(
        dataDirectory: URL, runtimeDirectory: URL, environments: EnvironmentSettings, processEnvironment: [String: String],
        runtimeRequirements: [String] = ["hypha-rpc==0.21.47"], environmentTimeout: Duration = .seconds(1800),
        processStartTimeout: Duration = .seconds(30), handshakeTimeout: Duration = .seconds(30),
        setupTimeout: Duration = .seconds(120), stopGracePeriod: Duration = .seconds(5), logCapacity: Int = 2000
    ) {
        self.runtimeDirectory = runtimeDirectory
        self.runtimeRequirements = runtimeRequirements
        self.environments = environments
        self.workDirectory = dataDirectory.appendingPathComponent("work")
        self.runDirectory = dataDirectory.appendingPathComponent("run")
        self.installedDirectory = dataDirectory.appendingPathComponent("plugins")
        self.processEnvironment = processEnvironment
        self.environmentTimeout = environmentTimeout
        self.processStartTimeout = processStartTimeout
        self.handshakeTimeout = handshakeTimeout
        self.setupTimeout = setupTimeout
        self.stopGracePeriod = stopGracePeriod
        self.logCapacity = logCapacity
    }

    /// The longest time `phase` may take.
    func timeout(for phase: StartPhase, setup: Duration?) -> Duration {
        switch phase {
        case .environment: return environmentTimeout
        case .processStart: return processStartTimeout
        case .handshake: return handshakeTimeout
        case .setup: return setup ?? setupTimeout
        }
    }
}
