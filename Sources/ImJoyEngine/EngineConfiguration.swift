#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Settings of an ``Engine``, resolved once by the `imjoy` command and handed down.
public struct EngineConfiguration: Sendable {
    /// The URL clients use to reach the engine; stamped into every function descriptor as `_rserver`.
    public var publicBaseURL: String
    /// Where the engine keeps its state (token secret, later the database and environments).
    public var dataDirectory: URL
    /// Client id of the workspace-manager peer; stable for the life of the process.
    public var managerID: String
    /// Lifetime of reconnection tokens (`reconnection_token_life_time`).
    public var reconnectionTokenLifetime: Duration
    /// Default lifetime of tokens from `generate_token`.
    public var defaultTokenLifetime: Duration
    /// Largest frame forwarded to a client. The Python client drops frames over 512 000 bytes; larger
    /// messages must be chunked by their sender.
    public var maxForwardedFrameSize: Int
    /// Time the manager waits for a provider's answer when fetching a service descriptor.
    public var serviceFetchTimeout: Duration
    /// Time a handshake waits for a claimed client id's current holder to answer a ping.
    public var livenessProbeTimeout: Duration
    /// Services one client may register.
    public var maxServicesPerClient: Int
    /// Largest service info `register_service` accepts, in bytes of msgpack.
    public var maxServiceInfoSize: Int
    /// The native-python plugin engine; `nil` runs no native-python plugins.
    public var plugins: PluginEngineSettings?
    /// Whether clients without a token get a temporary workspace of their own (loopback default); when false,
    /// every connection needs a token (required when the engine is reachable from the network).
    public var allowsAnonymous: Bool
    /// Failed authentications a remote host may make per minute before it is refused until the minute ends.
    public var maxFailedAuthenticationsPerMinute: Int
    /// Where the plugin repository served at `/plugins/` lives (this repository's `plugins/`), if found.
    public var pluginRepositoryDirectory: URL?
    /// The web app served at `/` (this repository's `web/`), if found.
    public var webAppDirectory: URL?
    /// Where the web app loads Pyodide from for `web-python` plugins (a URL ending in `/`, or `/pyodide/`).
    public var pyodideURL: String
    /// A local Pyodide distribution served at `/pyodide/` (for offline use), if given.
    public var pyodideDirectory: URL?
    /// The official Pyodide distribution the web app uses by default.
    public static let defaultPyodideURL = "https://cdn.jsdelivr.net/pyodide/v0.27.7/full/"

    public init(
        publicBaseURL: String, dataDirectory: URL, managerID: String = "manager-\(UUID().uuidString.prefix(8).lowercased())",
        reconnectionTokenLifetime: Duration = .seconds(172_800), defaultTokenLifetime: Duration = .seconds(3600),
        maxForwardedFrameSize: Int = 512_000, serviceFetchTimeout: Duration = .seconds(15),
        livenessProbeTimeout: Duration = .seconds(2), maxServicesPerClient: Int = 500,
        maxServiceInfoSize: Int = 128 << 10, plugins: PluginEngineSettings? = nil, allowsAnonymous: Bool = true,
        maxFailedAuthenticationsPerMinute: Int = 20, pluginRepositoryDirectory: URL? = nil, webAppDirectory: URL? = nil,
        pyodideURL: String = EngineConfiguration.defaultPyodideURL, pyodideDirectory: URL? = nil
    ) {
        self.pyodideURL = pyodideURL
        self.pyodideDirectory = pyodideDirectory
        self.webAppDirectory = webAppDirectory
        self.plugins = plugins
        self.allowsAnonymous = allowsAnonymous
        self.maxFailedAuthenticationsPerMinute = maxFailedAuthenticationsPerMinute
        self.pluginRepositoryDirectory = pluginRepositoryDirectory
        self.publicBaseURL = publicBaseURL
        self.dataDirectory = dataDirectory
        self.managerID = managerID
        self.reconnectionTokenLifetime = reconnectionTokenLifetime
        self.defaultTokenLifetime = defaultTokenLifetime
        self.maxForwardedFrameSize = maxForwardedFrameSize
        self.serviceFetchTimeout = serviceFetchTimeout
        self.livenessProbeTimeout = livenessProbeTimeout
        self.maxServicesPerClient = maxServicesPerClient
        self.maxServiceInfoSize = maxServiceInfoSize
    }

    /// The workspace the owner lands in and plugins are installed in by default.
    public static let defaultWorkspace = "default"

    /// The manager's address `"*/<managerID>"`.
    public var managerAddress: String { "*/\(managerID)" }
}
