#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import Logging
import Synchronization

/// Progress of an environment build, for logs, the CLI and the web app.
public enum EnvironmentEvent: Sendable, Hashable {
    /// A step began; `fraction` is the share of the build done so far (0…1).
    case phase(String, fraction: Double)
    /// A line of installer output.
    case output(String)
}

/// A ready environment.
public struct PreparedEnvironment: Sendable, Hashable {
    public var key: String
    public var directory: URL
    /// `<directory>/bin/python`.
    public var python: String
    /// Whether a cached environment was used (no install ran).
    public var reused: Bool
    /// Time the build took (zero when reused).
    public var buildSeconds: Double
    public var installer: String

    public var binDirectory: String { directory.appendingPathComponent("bin").path }
}

/// Which tool builds environments.
public enum InstallerPreference: String, Sendable, CaseIterable {
    /// uv when it can be found or installed, else venv + pip.
    case auto
    case uv
    case pip
}

/// Settings of the ``EnvironmentManager``.
public struct EnvironmentSettings: Sendable {
    /// Where environments live (`<data>/envs`).
    public var environmentsDirectory: URL
    /// The engine's own tools (uv) and the installers' caches (`<data>/cache` unless moved).
    public var cacheDirectory: URL
    /// The base interpreter (`python3`, or a path).
    public var basePython: String
    public var installer: InstallerPreference
    /// Install only from the local cache and `wheelhouse`.
    public var offline: Bool
    /// A folder of wheels used as an extra package source (the only one when offline).
    public var wheelhouse: String?
    /// The environment installers run with (PATH, HOME, proxies …), passed down by the CLI.
    public var processEnvironment: [String: String]
    /// The uv version installed into the tools environment on first use.
    public var uvVersion: String

    public init(
        environmentsDirectory: URL, cacheDirectory: URL, basePython: String = "python3",
        installer: InstallerPreference = .auto, offline: Bool = false, wheelhouse: String? = nil,
        processEnvironment: [String: String], uvVersion: String = "0.13.9"
    ) {
        self.environmentsDirectory = environmentsDirectory
        self.cacheDirectory = cacheDirectory
        self.basePython = basePython
        self.installer = installer
        self.offline = offline
        self.wheelhouse = wheelhouse
        self.processEnvironment = processEnvironment
        self.uvVersion = uvVersion
    }
}

/// Builds and caches isolated Python environments, one per ``EnvironmentSpec/key``.
///
/// A spec seen before reuses its environment; concurrent requests for one key share one build; a failed build
/// leaves nothing behind (an environment counts as built only once its marker file is written, last).
public actor EnvironmentManager {
    public let settings: EnvironmentSettings
    let logger: Logger
    private var interpreterResult: PythonInterpreter?
    private var uvPath: String??
    private var builds: [String: Task<PreparedEnvironment, any Error>] = [:]
    private let listeners = EnvironmentListeners()

    static let markerName = ".imjoy-env.json"

    public init(settings: EnvironmentSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    // MARK: - Interpreter

    /// The base interpreter (asked once).
    public func interpreter() async throws(EnvironmentError) -> PythonInterpreter {
        if let interpreterResult { return interpreterResult }
        let result = await CommandRunner.run(
            CommandSpec(
                executable: settings.basePython,
                arguments: ["-c", "import sys, platform; print(sys.executable); print(platform.python_version())"],
                environment: settings.processEnvironment), keepAll: true)
        let lines = result.lines.filter { !$0.isEmpty }
        guard result.status.isSuccess, lines.count >= 2 else {
            throw EnvironmentError(
                .interpreter,
                "The Python interpreter '\(settings.basePython)' did not run (\(result.status)); install Python 3 or "
                    + "pass --python /path/to/python3", outputTail: result.tail)
        }
        let found = PythonInterpreter(path: lines[lines.count - 2], version: lines[lines.count - 1])
        interpreterResult = found
        return found
    }

    // MARK: - Environments

    /// The environment for `spec`: the cached one, or a new build (shared with concurrent callers).
    /// `onEvent` hears the build's progress (nothing when the environment is reused).
    public func prepare(
        _ spec: EnvironmentSpec, onEvent: @escaping @Sendable (EnvironmentEvent) -> Void = { _ in }
    ) async throws(EnvironmentError) -> PreparedEnvironment {
        let key = spec.key
        let directory = settings.environmentsDirectory.appendingPathComponent(key)
        if builds[key] == nil, let existing = Self.readMarker(directory) {
            return PreparedEnvironment(
                key: key, directory: directory, python: directory.appendingPathComponent("bin/python").path, reused: true,
                buildSeconds: 0, installer: existing)
        }
        let listener = listeners.add(key, onEvent)
        defer { listeners.remove(key, listener) }
        let task: Task<PreparedEnvironment, any Error>
        if let running = builds[key] {
            onEvent(.phase("waiting for the same environment, already being built", fraction: 0))
            task = running
        } else {
            task = Task { try await self.build(spec, in: directory) }
            builds[key] = task
        }
        do {
            let prepared = try await task.value
            builds[key] = nil
            return prepared
        } catch let error as EnvironmentError {
            builds[key] = nil
            throw error
        } catch {
            builds[key] = nil
            throw EnvironmentError(.install, "Building the environment failed: \(error)")
        }
    }

    /// Keys of the complete environments on disk.
    public func cachedKeys() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: settings.environmentsDirectory.path)) ?? []
        return names.filter { Self.readMarker(settings.environmentsDirectory.appendingPathComponent($0)) != nil }.sorted()
    }

    private func build(_ spec: EnvironmentSpec, in directory: URL) async throws -> PreparedEnvironment {
        let key = spec.key
        let started = ContinuousClock.now
        let fileManager = FileManager.default
        // A directory without a marker is a build that died half-way: start again.
        try? fileManager.removeItem(at: directory)
        try fileManager.createDirectory(at: settings.environmentsDirectory, withIntermediateDirectories: true)
        let listeners = listeners
        let emit: @Sendable (EnvironmentEvent) -> Void = { event in listeners.emit(key, event) }
        do {
            let installer: String
            if !spec.condaPackages.isEmpty {
                installer = try await buildWithConda(spec, in: directory, emit: emit)
            } else if settings.installer != .pip, let uv = try await findUV(emit: emit) {
                try await buildWithUV(uv, spec, in: directory, emit: emit)
                installer = "uv"
            } else {
                try await buildWithPip(spec, in: directory, emit: emit)
                installer = "pip"
            }
            let seconds = (ContinuousClock.now - started).seconds
            try writeMarker(directory, spec: spec, installer: installer, seconds: seconds)
            emit(.phase("environment ready", fraction: 1))
            logger.info(
                "Environment built",
                metadata: [
                    "env.key": "\(key)", "env.installer": "\(installer)", "env.seconds": "\((seconds * 10).rounded() / 10)",
                    "env.packages": "\(spec.packages.joined(separator: " "))",
                ])
            return PreparedEnvironment(
                key: key, directory: directory, python: directory.appendingPathComponent("bin/python").path,
                reused: false, buildSeconds: seconds, installer: installer)
        } catch {
            try? fileManager.removeItem(at: directory)
            throw error
        }
    }

    // MARK: - Installers

    private func environment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = settings.processEnvironment
        environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        environment["UV_PYTHON_DOWNLOADS"] = "never"
        environment["UV_CACHE_DIR"] = settings.cacheDirectory.appendingPathComponent("uv").path
        environment["UV_NO_PROGRESS"] = "1"
        environment.removeValue(forKey: "VIRTUAL_ENV")
        environment.removeValue(forKey: "PYTHONPATH")
        for (key, value) in extra { environment[key] = value }
        return environment
    }

    /// Runs one installer step; throws with the blamed requirement when it fails.
    private func step(
        _ command: CommandSpec, phase: String, requested: [String], emit: @escaping @Sendable (EnvironmentEvent) -> Void,
        progress: @escaping @Sendable (String) -> Double? = { _ in nil }
    ) async throws(EnvironmentError) {
        let result = await CommandRunner.run(command, tailLength: 30, keepAll: true) { line in
            emit(.output(line.text))
            if let fraction = progress(line.text) { emit(.phase(phase, fraction: fraction)) }
        }
        guard result.status.isSuccess else {
            let blamed = EnvironmentError.blamedRequirement(in: result.lines, requested: requested)
            let what = blamed.map { "could not install the requirement '\($0)'" } ?? "\(phase) failed"
            throw EnvironmentError(
                .install, "Environment build failed: \(what) (\(command.executable) \(result.status))",
                requirement: blamed, outputTail: result.tail)
        }
    }

    private func findUV(emit: @escaping @Sendable (EnvironmentEvent) -> Void) async throws(EnvironmentError) -> String? {
        if let uvPath { return uvPath }
        let tools = settings.cacheDirectory.appendingPathComponent("tools")
        let installed = tools.appendingPathComponent("bin/uv").path
        if FileManager.default.isExecutableFile(atPath: installed) {
            uvPath = .some(installed)
            return installed
        }
        if let onPath = Self.which("uv", in: settings.processEnvironment) {
            uvPath = .some(onPath)
            return onPath
        }
        if settings.offline {
            guard settings.installer != .uv else {
                throw EnvironmentError(.installer, "uv is not installed and --offline forbids installing it; use --installer pip")
            }
            uvPath = .some(nil)
            return nil
        }
        emit(.phase("installing uv \(settings.uvVersion) into the engine's tools environment", fraction: 0.02))
        let python = try await interpreter()
        do {
            try await step(
                CommandSpec(executable: python.path, arguments: ["-m", "venv", tools.path], environment: environment()),
                phase: "creating the tools environment", requested: [], emit: emit)
            try await step(
                CommandSpec(
                    executable: tools.appendingPathComponent("bin/python").path,
                    arguments: ["-m", "pip", "install", "--quiet", "uv==\(settings.uvVersion)"], environment: environment()),
                phase: "installing uv", requested: ["uv==\(settings.uvVersion)"], emit: emit)
        } catch {
            try? FileManager.default.removeItem(at: tools)
            if settings.installer == .uv { throw EnvironmentError(.installer, "Could not install uv: \(error.description)") }
            logger.warning("Could not install uv; environments are built with venv + pip", metadata: ["error": "\(error.message)"])
            uvPath = .some(nil)
            return nil
        }
        uvPath = .some(installed)
        return installed
    }

    private func buildWithUV(
        _ uv: String, _ spec: EnvironmentSpec, in directory: URL, emit: @escaping @Sendable (EnvironmentEvent) -> Void
    ) async throws(EnvironmentError) {
        emit(.phase("creating the environment (uv)", fraction: 0.05))
        try await step(
            CommandSpec(
                executable: uv, arguments: ["venv", "--seed", "--quiet", "--python", spec.interpreter.path, directory.path],
                environment: environment()),
            phase: "creating the environment", requested: [], emit: emit)
        guard !spec.packages.isEmpty else { return }
        var arguments = ["pip", "install", "--python", directory.appendingPathComponent("bin/python").path]
        if settings.offline { arguments.append("--offline") }
        if let wheelhouse = settings.wheelhouse { arguments += ["--find-links", wheelhouse] }
        if settings.offline, settings.wheelhouse != nil { arguments.append("--no-index") }
        emit(.phase("resolving \(spec.packages.count) requirements", fraction: 0.1))
        try await step(
            CommandSpec(executable: uv, arguments: arguments + spec.packages, environment: environment()),
            phase: "installing requirements", requested: spec.packages, emit: emit, progress: Self.uvProgress)
    }

    /// Reads uv's summary lines as progress.
    static func uvProgress(_ line: String) -> Double? {
        if line.hasPrefix("Resolved ") { return 0.4 }
        if line.hasPrefix("Prepared ") { return 0.8 }
        if line.hasPrefix("Installed ") { return 0.95 }
        return nil
    }

    private func buildWithPip(
        _ spec: EnvironmentSpec, in directory: URL, emit: @escaping @Sendable (EnvironmentEvent) -> Void
    ) async throws(EnvironmentError) {
        emit(.phase("creating the environment (venv)", fraction: 0.05))
        try await step(
            CommandSpec(executable: spec.interpreter.path, arguments: ["-m", "venv", directory.path], environment: environment()),
            phase: "creating the environment", requested: [], emit: emit)
        guard !spec.packages.isEmpty else { return }
        var arguments = ["-m", "pip", "install", "--progress-bar", "off"]
        if settings.offline { arguments.append("--no-index") }
        if let wheelhouse = settings.wheelhouse { arguments += ["--find-links", wheelhouse] }
        emit(.phase("installing \(spec.packages.count) requirements (pip)", fraction: 0.1))
        try await step(
            CommandSpec(
                executable: directory.appendingPathComponent("bin/python").path, arguments: arguments + spec.packages,
                environment: environment()),
            phase: "installing requirements", requested: spec.packages, emit: emit
        ) { line in
            if line.hasPrefix("Collecting ") { return 0.3 }
            if line.hasPrefix("Installing collected") { return 0.8 }
            return nil
        }
    }

    private func buildWithConda(
        _ spec: EnvironmentSpec, in directory: URL, emit: @escaping @Sendable (EnvironmentEvent) -> Void
    ) async throws(EnvironmentError) -> String {
        guard let conda = Self.which("mamba", in: settings.processEnvironment) ?? Self.which("conda", in: settings.processEnvironment)
        else {
            throw EnvironmentError(
                .condaMissing,
                "This plugin asks for conda packages (\(spec.condaPackages.joined(separator: ", "))) but neither conda "
                    + "nor mamba is on the engine's PATH: install Miniforge (https://conda-forge.org/download/) and "
                    + "restart the engine, or replace them with pip requirements")
        }
        emit(.phase("creating the environment (conda)", fraction: 0.05))
        var arguments = ["create", "--yes", "--quiet", "--prefix", directory.path, "python=\(spec.interpreter.version)"]
        if settings.offline { arguments.append("--offline") }
        try await step(
            CommandSpec(executable: conda, arguments: arguments + spec.condaPackages, environment: environment()),
            phase: "installing conda packages", requested: spec.condaPackages, emit: emit)
        guard !spec.packages.isEmpty else { return URL(fileURLWithPath: conda).lastPathComponent }
        emit(.phase("installing \(spec.packages.count) pip requirements", fraction: 0.6))
        var pipArguments = ["-m", "pip", "install", "--progress-bar", "off"]
        if settings.offline { pipArguments.append("--no-index") }
        if let wheelhouse = settings.wheelhouse { pipArguments += ["--find-links", wheelhouse] }
        try await step(
            CommandSpec(
                executable: directory.appendingPathComponent("bin/python").path, arguments: pipArguments + spec.packages,
                environment: environment()),
            phase: "installing requirements", requested: spec.packages, emit: emit)
        return URL(fileURLWithPath: conda).lastPathComponent
    }

    // MARK: - Files

    static func which(_ name: String, in environment: [String: String]) -> String? {
        for directory in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// The installer named in a finished environment's marker; `nil` when there is no complete environment.
    static func readMarker(_ directory: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(markerName).path),
            let marker = try? JSONDecoder().decode(EnvironmentMarker.self, from: data),
            FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("bin/python").path)
        else { return nil }
        return marker.installer
    }

    private func writeMarker(_ directory: URL, spec: EnvironmentSpec, installer: String, seconds: Double) throws {
        let marker = EnvironmentMarker(
            key: spec.key, python: spec.interpreter.version, interpreter: spec.interpreter.path, packages: spec.packages,
            condaPackages: spec.condaPackages, installer: installer, buildSeconds: seconds, created: Date())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(marker)
        try data.write(to: directory.appendingPathComponent(Self.markerName))
    }
}

/// What a finished environment's marker file records.
struct EnvironmentMarker: Codable {
    var key: String
    var python: String
    var interpreter: String
    var packages: [String]
    var condaPackages: [String]
    var installer: String
    var buildSeconds: Double
    var created: Date
}

/// Progress listeners per environment key; called synchronously, so output lines keep their order.
final class EnvironmentListeners: Sendable {
    private let state = Mutex<(next: UInt64, byKey: [String: [UInt64: @Sendable (EnvironmentEvent) -> Void]])>((0, [:]))

    func add(_ key: String, _ listener: @escaping @Sendable (EnvironmentEvent) -> Void) -> UInt64 {
        state.withLock { state in
            state.next += 1
            state.byKey[key, default: [:]][state.next] = listener
            return state.next
        }
    }

    func remove(_ key: String, _ id: UInt64) {
        state.withLock { _ = $0.byKey[key]?.removeValue(forKey: id) }
    }

    func emit(_ key: String, _ event: EnvironmentEvent) {
        let listeners = state.withLock { Array(($0.byKey[key] ?? [:]).values) }
        for listener in listeners { listener(event) }
    }
}
