/// Where and how a plugin runs (IMJOY-PLUGINS.md §1.4).
public enum PluginType: String, Sendable, Hashable, CaseIterable {
    case window
    case webWorker = "web-worker"
    case iframe
    case rpcWindow = "rpc-window"
    case rpcWorker = "rpc-worker"
    case collection
    case webPython = "web-python"
    case nativePython = "native-python"
    /// Runs unsandboxed in the host page; only for internal plugins.
    case evil
    /// Deprecated since api_version 0.1.8; kept so old files load.
    case webPythonWindow = "web-python-window"
    /// Only a template ever existed; kept so old files load.
    case jupyterNotebook = "jupyter-notebook"

    /// Names used before api_version 0.1.2 and their current equivalents.
    public static let legacyNames: [String: PluginType] = [
        "pyworker": .nativePython, "webworker": .webWorker, "webpython": .webPython,
    ]

    /// Whether the plugin's code is Python.
    public var isPython: Bool {
        self == .nativePython || self == .webPython || self == .webPythonWindow || self == .jupyterNotebook
    }

    /// Whether an engine (not the browser) runs it.
    public var runsInEngine: Bool { self == .nativePython }

    /// The language of its scripts when a `<script>` does not say.
    public var defaultLanguage: String { isPython ? "python" : "javascript" }

    /// Every accepted name, for error messages.
    static var accepted: String {
        allCases.map(\.rawValue).joined(separator: ", ")
    }
}
