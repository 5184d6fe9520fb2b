import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyEngine
import Logging

/// How an engine runs native-python plugins: the interpreter, the installer and its cache, the runtime folder.
/// Shared by `imjoy serve` and the engine `imjoy run` embeds.
struct PluginRuntimeOptions: ParsableArguments {
    @Option(help: "Python interpreter plugin environments are made from.")
    var python = "python3"

    @Option(help: "Environment installer: auto (uv, installed on first use; else venv + pip), uv or pip.")
    var installer = "auto"

    @Flag(help: "Install plugin requirements only from the local cache and --wheelhouse (no network).")
    var offline = false

    @Option(help: "A folder of wheels to install plugin requirements from (the only source with --offline).")
    var wheelhouse: String?

    @Option(name: .customLong("cache-dir"), help: "The installers' cache and the engine's tools (default: DATA_DIR/cache).")
    var cacheDirectory: String?

    @Option(name: .customLong("setup-timeout"), help: "Seconds a plugin's script and setup() may take before its start fails.")
    var setupTimeout: Double = 120

    @Option(
        name: .customLong("python-runtime"),
        help: "The Python plugin runtime folder (python/ of this repository; found next to the binary by default).")
    var pythonRuntime: String?

    func validate() throws {
        guard InstallerPreference(rawValue: installer) != nil else {
            throw ValidationError("--installer \(installer) is not one of auto, uv, pip")
        }
        guard setupTimeout > 0, setupTimeout <= 86_400 else {
            throw ValidationError("--setup-timeout \(setupTimeout) must be between 0 and 86400 seconds")
        }
    }

    /// The plugin engine's settings, or `nil` (with a warning saying why) when the Python runtime is missing.
    func settings(dataURL: URL, environment: [String: String], logger: Logger) -> PluginEngineSettings? {
        let runtime = pythonRuntime.map { URL(fileURLWithPath: ServeCommand.expandingHome($0, environment)) }
            ?? PythonRuntimeLocator.locate(environment: environment)
        guard let runtime, PythonRuntimeLocator.isRuntime(runtime) else {
            logger.warning(
                "Native-python plugins are off: the Python runtime (python/imjoy/runner.py) was not found",
                metadata: ["fix": "pass --python-runtime /path/to/imjoy/python or set IMJOY_PYTHON_RUNTIME"])
            return nil
        }
        let cache = URL(
            fileURLWithPath: ServeCommand.expandingHome(
                cacheDirectory ?? dataURL.appendingPathComponent("cache").path, environment))
        return PluginEngineSettings(
            dataDirectory: dataURL, runtimeDirectory: runtime,
            environments: EnvironmentSettings(
                environmentsDirectory: dataURL.appendingPathComponent("envs"), cacheDirectory: cache, basePython: python,
                installer: InstallerPreference(rawValue: installer) ?? .auto, offline: offline,
                wheelhouse: wheelhouse.map { ServeCommand.expandingHome($0, environment) }, processEnvironment: environment),
            processEnvironment: environment, setupTimeout: .milliseconds(Int64(setupTimeout * 1000)))
    }
}
