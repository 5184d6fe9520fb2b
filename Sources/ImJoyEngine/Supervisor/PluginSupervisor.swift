#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import ImJoyCore
import ImJoyRPC
public import Logging
public import MessagePack

/// Options of one start.
public struct StartOptions: Sendable {
    /// Longest time the script and `setup()` may take (the engine's default when `nil`).
    public var setupTimeout: Duration?
    /// Stop a running instance and start it again.
    public var restart: Bool
    /// Run a `web-python` plugin on the engine's Python (the web app's fallback when Pyodide cannot be loaded).
    public var webPythonOnEngine: Bool
    /// The token the plugin process connects with (`nil`: the host issues one); a worker gets it from the engine.
    public var token: String?
    /// The plugin's client id (`nil`: derived from its id and owner); a worker gets it from the engine.
    public var clientID: String?

    public init(
        setupTimeout: Duration? = nil, restart: Bool = false, webPythonOnEngine: Bool = false, token: String? = nil,
        clientID: String? = nil
    ) {
        self.token = token
        self.clientID = clientID
        self.setupTimeout = setupTimeout
        self.restart = restart
        self.webPythonOnEngine = webPythonOnEngine
    }
}

/// A start, stop or lookup failed; the message says what, where and what to do.
public struct PluginEngineError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs native-python plugins as child processes of the engine: environments, launch, the start phases with
/// their timeouts, crash reports, stop with SIGTERM → grace → SIGKILL, and per-plugin logs.
public actor PluginSupervisor {
    public let settings: PluginEngineSettings
    public let environments: EnvironmentManager
    let logger: Logger
    private weak var host: (any PluginHostContext)?
    /// Instances by signature (`<workspace>/<plugin id>` for single-instance plugins, else `…@<owner client>`).
    private var instances: [String: PluginInstance] = [:]
    private var starts: [String: Task<MessagePackValue, any Error>] = [:]
    /// `repo:` and `cmd:` requirements already run in a work directory (as ImJoy, once per engine run).
    private var finishedWorkSteps: Set<String> = []
    private var shuttingDown = false

    public init(settings: PluginEngineSettings, logger: Logger) {
        self.settings = settings
        self.environments = EnvironmentManager(settings: settings.environments, logger: logger)
        self.logger = logger
    }

    /// Connects the supervisor to where it runs (the engine, or a worker); it keeps a weak reference.
    public func attach(to host: any PluginHostContext) {
        self.host = host
    }

    // MARK: - Start

    /// Starts `plugin` for `owner` (or joins a start in progress, or returns the running instance) and returns
    /// the plugin's service descriptor, as `get_service` would.
    public func start(_ plugin: Plugin, owner: PluginOwner, options: StartOptions = StartOptions())
        async throws -> MessagePackValue
    {
        guard !shuttingDown else { throw PluginEngineError("The engine is shutting down; no plugins start now") }
        guard plugin.config.type == .nativePython || (plugin.config.type == .webPython && options.webPythonOnEngine) else {
            throw PluginEngineError(
                "'\(plugin.config.name)' is a \(plugin.config.type.rawValue) plugin: it runs in the browser (the web app), "
                    + "not in the engine; only native-python plugins start here")
        }
        let single = plugin.config.flags.contains("single-instance")
        let signature = "\(owner.workspace)/\(plugin.config.id)" + (single ? "" : "@\(owner.clientID)")
        if let running = starts[signature] { return try await running.value }
        let instance: PluginInstance
        if let existing = instances[signature] {
            instance = existing
            if existing.state == .running {
                if !options.restart { return try await resume(existing) }
                await stop(existing, reason: "restarted")
            }
            instance.move(to: .restarting)
        } else {
            let clientID = options.clientID ?? Self.pluginClientID(plugin, owner: owner)
            let workspace = owner.workspace
            instance = PluginInstance(
                plugin: plugin, owner: owner, signature: signature, clientID: clientID, logCapacity: settings.logCapacity,
                onLog: { [weak host] name, entry in
                    host?.pluginLogged(name: name, clientID: clientID, entry: entry, workspace: workspace)
                },
                onStateChange: { [weak host] instance in host?.pluginStatusChanged(instance.statusEvent) })
            instances[signature] = instance
        }
        let task = Task { try await self.run(instance, plugin: plugin, owner: owner, options: options) }
        starts[signature] = task
        defer { starts[signature] = nil }
        return try await task.value
    }

    private func run(_ instance: PluginInstance, plugin: Plugin, owner: PluginOwner, options: StartOptions)
        async throws -> MessagePackValue
    {
        guard let generation = instance.beginStart(plugin: plugin, owner: owner) else {
            throw PluginEngineError("'\(plugin.config.name)' is \(instance.state); try again when it has stopped")
        }
        let clock = ContinuousClock()
        let started = clock.now
        let name = plugin.config.name
        do {
            let environment = try await prepareEnvironment(instance, plugin: plugin)
            let workDirectory = settings.workDirectory.appendingPathComponent(Self.safeName(owner.workspace))
            try FileManager.default.createDirectory(at: workDirectory, withIntermediateDirectories: true)
            try await runWorkDirectorySteps(instance, plugin: plugin, environment: environment, in: workDirectory)
            let runDirectory = try writeRunFiles(instance, plugin: plugin, workDirectory: workDirectory)
            let descriptor = try await launch(
                instance, generation: generation, environment: environment, runDirectory: runDirectory,
                workDirectory: workDirectory, options: options)
            let seconds = (clock.now - started).seconds
            instance.update { $0.startSeconds = seconds }
            instance.log.append(.engine, "ready in \(Self.format(seconds)) s")
            logger.info(
                "Plugin started",
                metadata: [
                    "plugin.name": "\(name)", "workspace.id": "\(owner.workspace)", "plugin.seconds": "\(Self.format(seconds))",
                    "env.reused": "\(environment.reused)",
                ])
            return descriptor
        } catch {
            let message = (error as? PluginEngineError)?.message ?? "\(error)"
            instance.move(to: .failed(message))
            cleanUpFailedStart(instance, reason: message)
            logger.warning("Plugin failed to start", metadata: ["plugin.name": "\(name)", "error": "\(message)"])
            throw PluginEngineError(message)
        }
    }

    private func prepareEnvironment(_ instance: PluginInstance, plugin: Plugin) async throws -> PreparedEnvironment {
        var pip: [String] = []
        var conda: [String] = []
        for requirement in plugin.config.requirements {
            switch requirement {
            case .pip(let package): pip.append(package)
            case .conda(let package): conda.append(package)
            default: break
            }
        }
        let log = instance.log
        let name = plugin.config.name
        do {
            let spec = EnvironmentSpec(
                interpreter: try await environments.interpreter(), packages: pip + settings.runtimeRequirements,
                condaPackages: conda)
            log.append(.engine, "environment \(spec.key): \(spec.packages.joined(separator: " "))")
            let environments = environments
            let prepared = try await Self.withTimeout(settings.environmentTimeout) {
                try await environments.prepare(spec) { event in
                    switch event {
                    case .output(let line): log.append(.install, line)
                    case .phase(let text, let fraction): log.append(.engine, "environment: \(text) (\(Int(fraction * 100))%)")
                    }
                }
            }
            guard let prepared else {
                throw PluginEngineError(
                    "'\(name)' timed out in phase environment: building its Python environment took longer than "
                        + "\(Self.format(settings.environmentTimeout.seconds)) s (the build goes on; start the plugin again "
                        + "later, or raise --environment-timeout)")
            }
            log.append(
                .engine,
                prepared.reused
                    ? "environment \(prepared.key) reused"
                    : "environment \(prepared.key) built with \(prepared.installer) in \(Self.format(prepared.buildSeconds)) s")
            instance.update { $0.environment = prepared }
            return prepared
        } catch let error as EnvironmentError {
            throw PluginEngineError("'\(name)' could not get its Python environment: \(error.description)")
        }
    }

    /// Runs `repo:` (clone or pull) and `cmd:` requirements in the work directory, each once per engine run.
    private func runWorkDirectorySteps(
        _ instance: PluginInstance, plugin: Plugin, environment: PreparedEnvironment, in directory: URL
    ) async throws {
        var processEnvironment = pluginEnvironment(environment)
        processEnvironment["WORK_DIR"] = directory.path
        for requirement in plugin.config.requirements {
            let command: CommandSpec
            switch requirement {
            case .repository(let url, let target):
                let folder = target ?? Self.repositoryFolder(url)
                if FileManager.default.fileExists(atPath: directory.appendingPathComponent(folder).path) {
                    command = CommandSpec(
                        executable: "git", arguments: ["-C", folder, "pull", "--all"], environment: processEnvironment,
                        workingDirectory: directory.path)
                } else {
                    command = CommandSpec(
                        executable: "git", arguments: ["clone", "--depth=1", url, folder], environment: processEnvironment,
                        workingDirectory: directory.path)
                }
            case .command(let text):
                command = CommandSpec(
                    executable: "/bin/sh", arguments: ["-c", text], environment: processEnvironment,
                    workingDirectory: directory.path)
            default:
                continue
            }
            let key = "\(directory.path)\n\(requirement)"
            if finishedWorkSteps.contains(key) { continue }
            instance.log.append(.engine, "running requirement \(requirement)")
            let log = instance.log
            let result = await CommandRunner.run(command) { line in log.append(.install, line.text) }
            guard result.status.isSuccess else {
                throw PluginEngineError(
                    "'\(plugin.config.name)' could not get its requirement \(requirement) (\(result.status)):\n"
                        + result.tail.joined(separator: "\n"))
            }
            finishedWorkSteps.insert(key)
        }
    }

    /// Writes what the runner reads: `plugin.json` and `plugin.py`.
    private func writeRunFiles(_ instance: PluginInstance, plugin: Plugin, workDirectory: URL) throws -> URL {
        let directory = settings.runDirectory.appendingPathComponent(Self.safeName(instance.workspace))
            .appendingPathComponent(instance.clientID)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let scripts = plugin.scripts.filter { ($0.lang ?? "python").lowercased().hasPrefix("py") }
        let script = scripts.map(\.content).joined(separator: "\n")
        try Data(script.utf8).write(to: directory.appendingPathComponent("plugin.py"))
        let configFile = settings.runDirectory.appendingPathComponent(Self.safeName(instance.workspace))
            .appendingPathComponent("config-\(plugin.config.id).json")
        let settingsFile = RunnerSettings(
            name: plugin.config.name, id: plugin.config.id, tag: plugin.config.tag, version: plugin.config.version,
            type: plugin.config.type.rawValue, description: plugin.config.description, attachments: plugin.attachments, configFile: configFile.path,
            workDir: workDirectory.path, file: "\(plugin.config.name).imjoy.html",
            scriptLine: scripts.first?.contentLocation.line ?? 1, flags: plugin.config.flags)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        try encoder.encode(settingsFile).write(to: directory.appendingPathComponent("plugin.json"))
        return directory
    }

    private func pluginEnvironment(_ environment: PreparedEnvironment) -> [String: String] {
        var result = settings.processEnvironment
        result["PATH"] = environment.binDirectory + ":" + (result["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        result["VIRTUAL_ENV"] = environment.directory.path
        result.removeValue(forKey: "PYTHONHOME")
        return result
    }

    // MARK: - Launch and the start phases

    private enum StartEvent: Sendable {
        case status(RunnerStatus)
        case exited(ExitStatus)
        case timedOut(StartPhase, Duration)
    }

    private func launch(
        _ instance: PluginInstance, generation: Int, environment: PreparedEnvironment, runDirectory: URL,
        workDirectory: URL, options: StartOptions
    ) async throws -> MessagePackValue {
        guard let host else { throw PluginEngineError("The engine is not running") }
        let owner = instance.current.owner
        let name = instance.name
        let token: String
        do {
            if let preset = options.token {
                token = preset
            } else {
                token = try await host.pluginToken(owner: owner.user, workspace: instance.workspace, clientID: instance.clientID)
            }
        } catch {
            throw PluginEngineError("Could not issue a token for '\(name)': \(error)")
        }
        let tracker = CallTracker()
        host.expectPlugin(at: instance.address, tracker: tracker)
        var processEnvironment = pluginEnvironment(environment)
        let runtimePath = settings.runtimeDirectory.path
        processEnvironment["PYTHONPATH"] = runtimePath
        processEnvironment["PYTHONUNBUFFERED"] = "1"
        // uv installs no .pyc files, so a plugin's imports are compiled on its first start and cached in the
        // environment; with PYTHONDONTWRITEBYTECODE (often set for one's own source trees) every start compiled
        // them again: 1.25 s instead of 0.5 s to import numpy + scikit-image + hypha-rpc. The environment is the
        // engine's cache; a plugin that wants the variable anyway sets it in its config's `env`.
        processEnvironment["PYTHONDONTWRITEBYTECODE"] = nil
        processEnvironment["IMJOY_SERVER_URL"] = host.pluginServerURL
        processEnvironment["IMJOY_WORKSPACE"] = instance.workspace
        processEnvironment["IMJOY_TOKEN"] = token
        processEnvironment["IMJOY_CLIENT_ID"] = instance.clientID
        processEnvironment["IMJOY_PARENT_PID"] = String(getpid())
        processEnvironment["WORK_DIR"] = workDirectory.path
        for item in instance.current.plugin.config.env {
            if case .spec(let type, let options) = item, type == "variable" {
                for entry in options.entries ?? [] {
                    processEnvironment[entry.key] = entry.value.stringValue ?? entry.value.json
                }
            }
        }
        let process: ChildProcess
        do {
            process = try await ChildProcess.launch(
                CommandSpec(
                    executable: environment.python, arguments: ["-m", "imjoy.runner", runDirectory.path],
                    environment: processEnvironment, workingDirectory: workDirectory.path))
        } catch {
            throw PluginEngineError("'\(name)' timed out in phase process start: \(error.description)")
        }
        instance.update {
            $0.process = process
            $0.tracker = tracker
        }
        instance.move(to: .starting(.processStart))
        instance.log.append(.engine, "process \(process.pid) started")

        let (events, emit) = AsyncStream<StartEvent>.makeStream(bufferingPolicy: .bufferingNewest(64))
        let log = instance.log
        let reader = Task.detached {
            for await line in process.output {
                if line.stream == .stdout, let status = RunnerStatus.parse(line.text) {
                    emit.yield(.status(status))
                    if status.phase != "error" { log.append(.engine, "runtime: \(status.phase)") }
                } else {
                    log.append(line.stream == .stdout ? .stdout : .stderr, line.text)
                }
            }
        }
        Task.detached {
            await reader.value
            let status = await process.exitStatus
            emit.yield(.exited(status))
            emit.finish()
            await self.processEnded(instance, generation: generation, status: status)
        }
        // Checks the current phase's deadline a few times a second (phases change while it waits).
        let watchdog = Task.detached { [settings] in
            while !Task.isCancelled {
                let snapshot = instance.current
                guard snapshot.generation == generation, case .starting(let phase) = snapshot.state else { return }
                let timeout = settings.timeout(for: phase, setup: options.setupTimeout)
                if ContinuousClock.now >= snapshot.phaseSince + timeout {
                    emit.yield(.timedOut(phase, timeout))
                    return
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { watchdog.cancel() }

        for await event in events {
            switch event {
            case .status(let status):
                switch status.phase {
                case "connecting": instance.move(to: .starting(.handshake))
                case "script", "setup": instance.move(to: .starting(.setup))
                case "ready":
                    guard instance.move(to: .running) else { continue }
                    return try await descriptor(of: instance)
                case "error":
                    let stage = status.stage == "setup" ? "in setup()" : "while running its script"
                    var message = "'\(name)' failed \(stage): \(status.message ?? "unknown error")"
                    if let traceback = status.traceback, !traceback.isEmpty { message += "\n\(traceback)" }
                    log.append(.engine, message)
                    throw PluginEngineError(message)
                default:
                    continue
                }
            case .exited(let status):
                let phase = instance.state
                throw PluginEngineError(
                    "'\(name)' exited during \(phase) (\(status))" + Self.stderrSection(instance.log.recentErrors))
            case .timedOut(let phase, let timeout):
                throw PluginEngineError(
                    "'\(name)' timed out in phase \(phase.rawValue): nothing happened for \(Self.format(timeout.seconds)) s, "
                        + "so it was stopped" + (phase == .setup ? " (raise the limit with start(..., timeout=SECONDS))" : "")
                        + Self.stderrSection(instance.log.recentErrors))
            }
        }
        throw PluginEngineError("'\(name)' ended before it was ready" + Self.stderrSection(instance.log.recentErrors))
    }

    private func cleanUpFailedStart(_ instance: PluginInstance, reason: String) {
        let snapshot = instance.current
        snapshot.tracker?.setExitReason(reason)
        if let process = snapshot.process {
            process.signal(SIGKILL)
        }
        if let tracker = snapshot.tracker { host?.forgetPlugin(at: instance.address, tracker: tracker) }
    }

    /// The process of `generation` ended: a crash while running, the end of a stop, or a failed start.
    private func processEnded(_ instance: PluginInstance, generation: Int, status: ExitStatus) {
        let snapshot = instance.current
        guard snapshot.generation == generation else { return }
        instance.update { $0.lastExit = status }
        instance.log.append(.engine, "process ended: \(status)")
        let reason =
            "Plugin '\(instance.name)' \(status == .exited(0) ? "exited" : "crashed") (\(status))"
            + Self.stderrSection(instance.log.recentErrors)
        snapshot.tracker?.setExitReason(reason)
        if let tracker = snapshot.tracker { host?.forgetPlugin(at: instance.address, tracker: tracker) }
        switch snapshot.state {
        case .running:
            instance.move(to: .crashed(reason))
            logger.warning("Plugin crashed", metadata: ["plugin.name": "\(instance.name)", "exit": "\(status)"])
        case .stopping:
            instance.move(to: .stopped)
        default:
            break
        }
    }

    /// The running instance's API, after calling its `resume()` (as ImJoy does when a client finds a plugin that
    /// is already running, e.g. an `allow-detach` one it started before).
    private func resume(_ instance: PluginInstance) async throws -> MessagePackValue {
        let descriptor = try await descriptor(of: instance)
        guard let host, descriptor["resume"] != nil else { return descriptor }
        instance.log.append(.engine, "resume()")
        do {
            try await host.callPlugin(at: instance.address, method: "services.\(instance.serviceID).resume")
        } catch {
            throw PluginEngineError("'\(instance.name)' is running, but its resume() failed: \(error)")
        }
        return descriptor
    }

    private func descriptor(of instance: PluginInstance) async throws -> MessagePackValue {
        guard let host else { throw PluginEngineError("The engine is not running") }
        do {
            return try await host.pluginDescriptor(
                workspace: instance.workspace, clientID: instance.clientID, serviceID: instance.serviceID)
        } catch {
            throw PluginEngineError("'\(instance.name)' is running, but its service cannot be found: \(error)")
        }
    }

    // MARK: - Stop

    /// Stops the caller's instance of the plugin named `name`.
    public func stop(name: String, caller: PluginOwner, ifRunning: Bool = false) async throws {
        let instance: PluginInstance
        do {
            instance = try find(name, caller: caller)
        } catch where ifRunning {
            return
        }
        guard instance.state.isActive else { return }
        if let starting = starts[instance.signature] {
            starting.cancel()
        }
        await stop(instance, reason: "stopped on request")
    }

    /// SIGTERM, a grace period, then SIGKILL; returns once the process is gone.
    private func stop(_ instance: PluginInstance, reason: String) async {
        let snapshot = instance.current
        guard snapshot.state.isActive else { return }
        instance.move(to: .stopping)
        instance.log.append(.engine, "stopping: \(reason)")
        snapshot.tracker?.setExitReason("Plugin '\(instance.name)' was stopped (\(reason)) while the call was running")
        guard let process = snapshot.process else {
            instance.move(to: .stopped)
            return
        }
        process.signal(SIGTERM)
        let ended = (try? await Self.withTimeout(settings.stopGracePeriod) { await process.exitStatus }) ?? nil
        if ended == nil {
            instance.log.append(.engine, "no exit after \(Self.format(settings.stopGracePeriod.seconds)) s: SIGKILL")
            process.signal(SIGKILL)
            _ = await process.exitStatus
        }
        // processEnded moves to .stopped; make sure even if its task has not run yet.
        instance.move(to: .stopped)
    }

    /// Stops every plugin the client at `address` started, except `allow-detach` ones.
    func clientLeft(_ address: String) async {
        let owned = instances.values.filter {
            let snapshot = $0.current
            return snapshot.owner.address == address && snapshot.state.isActive
                && !snapshot.plugin.config.flags.contains("allow-detach")
        }
        await withTaskGroup(of: Void.self) { group in
            for instance in owned {
                group.addTask { await self.stop(instance, reason: "the client that started it (\(address)) left") }
            }
        }
    }

    /// Stops every plugin (engine shutdown); no new starts are accepted afterwards.
    public func stopAll() async {
        shuttingDown = true
        for task in starts.values { task.cancel() }
        let active = instances.values.filter { $0.state.isActive }
        await withTaskGroup(of: Void.self) { group in
            for instance in active {
                group.addTask { await self.stop(instance, reason: "the engine is shutting down") }
            }
        }
        // Starts still building environments have no process; those that launched one are stopped above.
        for instance in instances.values where instance.state.isActive {
            instance.current.process?.signal(SIGKILL)
        }
    }

    // MARK: - Queries

    /// The caller's own instance of `name`, else the workspace's shared one, else the only one.
    func find(_ name: String, caller: PluginOwner) throws -> PluginInstance {
        let candidates = instances.values.filter { instance in
            instance.workspace == caller.workspace
                && (instance.name == name || instance.current.plugin.config.id == name || instance.serviceID == name)
        }
        if let own = candidates.first(where: { $0.current.owner.address == caller.address }) { return own }
        if let shared = candidates.first(where: { !$0.signature.contains("@") }) { return shared }
        if candidates.count == 1 { return candidates[0] }
        if candidates.isEmpty {
            throw PluginEngineError("No plugin named '\(name)' was started in workspace \(caller.workspace); start it first")
        }
        throw PluginEngineError(
            "'\(name)' runs more than once in workspace \(caller.workspace) (started by other clients); only they can "
                + "stop theirs")
    }

    /// Instances of a workspace.
    /// Stops every plugin of `workspace` (it is being deleted).
    func stopAll(in workspace: String, reason: String) async {
        let active = instances.values.filter { $0.workspace == workspace && $0.state.isActive }
        await withTaskGroup(of: Void.self) { group in
            for instance in active {
                group.addTask { await self.stop(instance, reason: reason) }
            }
        }
    }

    func instancesByClient() -> [PluginInstance] {
        instances.values.sorted { $0.clientID < $1.clientID }
    }

    func instances(in workspace: String) -> [PluginInstance] {
        instances.values.filter { $0.workspace == workspace }.sorted { $0.signature < $1.signature }
    }

    /// Instances with a live process (for tests and metrics).
    public var activeProcessIDs: [Int32] {
        instances.values.compactMap { $0.state.isActive ? $0.current.process?.pid : nil }
    }

    // MARK: - Helpers

    /// Runs `body`, giving up after `timeout` (the body is cancelled); `nil` on timeout.
    static func withTimeout<T: Sendable>(
        _ timeout: Duration, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static func stderrSection(_ lines: [String]) -> String {
        lines.isEmpty ? "" : ". Last lines of stderr:\n" + lines.suffix(12).joined(separator: "\n")
    }

    static func format(_ seconds: Double) -> String {
        let tenths = (seconds * 10).rounded() / 10
        return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
    }

    static func safeName(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    static func repositoryFolder(_ url: String) -> String {
        var name = url.split(separator: "/").last.map(String.init) ?? "repository"
        if name.hasSuffix(".git") { name.removeLast(4) }
        return safeName(name)
    }

    /// The client id of `owner`'s instance of `plugin`: `plugin-<id>` (single-instance) or `plugin-<id>-<hash of owner>`.
    public static func pluginClientID(_ plugin: Plugin, owner: PluginOwner) -> String {
        "plugin-\(plugin.config.id)"
            + (plugin.config.flags.contains("single-instance") ? "" : "-\(shortHash(owner.clientID))")
    }

    static func shortHash(_ text: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in text.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return String(hash, radix: 36)
    }
}

/// What `python -m imjoy.runner` reads from `plugin.json`.
struct RunnerSettings: Encodable {
    var name: String
    var id: String
    var tag: String?
    var version: String
    var type: String
    var description: String?
    var attachments: [String: String]
    var configFile: String
    var workDir: String
    var file: String
    var scriptLine: Int
    var flags: [String]
}
