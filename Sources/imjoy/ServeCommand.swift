import ArgumentParser
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
import ImJoyEngine
import ImJoyServer
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// `imjoy serve`: runs the engine until SIGINT or SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Start the engine: the HTTP and WebSocket server that hosts workspaces and routes RPC.",
        discussion: """
            Prints "imjoy engine listening on http://HOST:PORT" once it accepts connections.
            Connect hypha-rpc clients to that URL. Stop with Ctrl-C (SIGINT) or SIGTERM.
            """)

    @Option(help: "Address to bind. Beyond loopback (e.g. 0.0.0.0) every client needs a token.")
    var host = "127.0.0.1"

    @Option(
        help: """
            Clients without a token: allow (each gets a temporary workspace; the default on loopback) or refuse (the default, and the only choice, on any other address).
            """)
    var anonymous: String?

    @Option(
        name: .customLong("plugins-dir"),
        help: "The plugin repository served at /plugins/ (this repository's plugins/, found next to the binary by default).")
    var pluginsDirectory: String?

    @Option(
        name: .customLong("web-dir"),
        help: "The web app served at / (this repository's web/, found next to the binary by default).")
    var webDirectory: String?

    @Option(
        name: .customLong("pyodide-url"),
        help: "Where the web app loads Pyodide from for web-python plugins (default: the official CDN; with --pyodide-dir: /pyodide/).")
    var pyodideURL: String?

    @Option(name: .customLong("pyodide-dir"), help: "A local Pyodide distribution to serve at /pyodide/ (for offline use).")
    var pyodideDirectory: String?

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 9527

    @Option(name: .customLong("data-dir"), help: "Where the engine keeps its state.")
    var dataDirectory = "~/.imjoy"

    @Option(name: .customLong("public-base-url"), help: "URL clients use to reach the engine (default: http://HOST:PORT).")
    var publicBaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(
        name: .customLong("tls-cert"),
        help: "Serve HTTPS and wss:// with this PEM certificate (chain); needs --tls-key. Browsers on other machines need it.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert (unencrypted).")
    var tlsKey: String?

    @Option(help: "Network threads. One is fastest for RPC routing on small machines; add more for TLS or many cores.")
    var threads = 1

    @OptionGroup var runtime: PluginRuntimeOptions

    @Flag(name: .customLong("no-plugins"), help: "Do not run native-python plugins (no public/plugin-engine service).")
    var noPlugins = false

    func validate() throws {
        guard anonymous == nil || anonymous == "allow" || anonymous == "refuse" else {
            throw ValidationError("--anonymous \(anonymous ?? "") is not one of allow, refuse")
        }
        if !Self.isLoopback(host), anonymous == "allow" {
            throw ValidationError(
                "--host \(host) with --anonymous allow would let anyone who can reach this machine run code on it "
                    + "without a token; drop --anonymous allow (clients then connect with the admin token printed at "
                    + "start, or a token from `imjoy token`)")
        }
        guard (tlsCertificate == nil) == (tlsKey == nil) else {
            throw ValidationError(
                tlsCertificate == nil
                    ? "--tls-key needs --tls-cert (the certificate that belongs to the key)"
                    : "--tls-cert needs --tls-key (the private key of the certificate)")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port (0-65535)") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads \(threads) must be between 1 and 64") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error, critical")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        ["127.0.0.1", "localhost", "::1"].contains(host) || host.hasPrefix("127.")
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        StandardErrorLogging.bootstrap(level)
        let logger = Logger(label: "imjoy")
        let environment = ProcessInfo.processInfo.environment
        let dataURL = URL(fileURLWithPath: Self.expandingHome(dataDirectory, environment))
        var serverConfiguration = ServerConfiguration(host: host, port: port)
        var pluginEnvironment = environment
        if let tlsCertificate, let tlsKey {
            let certificate = Self.expandingHome(tlsCertificate, environment)
            do {
                serverConfiguration.tls = try ServerConfiguration.tls(
                    certificate: certificate, privateKey: Self.expandingHome(tlsKey, environment))
                // Plugins connect back over wss://: they trust the system's roots and this certificate.
                pluginEnvironment["SSL_CERT_FILE"] = try TrustBundle.write(adding: certificate, in: dataURL).path
            } catch {
                throw CommandFailure("\(error)", exitCode: 64)
            }
        }
        let scheme = serverConfiguration.tls == nil ? "http" : "https"
        let engine = try await Engine.make(
            configuration: EngineConfiguration(
                publicBaseURL: publicBaseURL ?? "\(scheme)://\(host):\(port)", dataDirectory: dataURL,
                plugins: pluginSettings(dataURL: dataURL, environment: pluginEnvironment, logger: logger),
                allowsAnonymous: (anonymous ?? (Self.isLoopback(host) ? "allow" : "refuse")) == "allow",
                pluginRepositoryDirectory: pluginsDirectory.map { URL(fileURLWithPath: Self.expandingHome($0, environment)) }
                    ?? PythonRuntimeLocator.locateFolder("plugins", containing: "manifest.imjoy.json"),
                webAppDirectory: webDirectory.map { URL(fileURLWithPath: Self.expandingHome($0, environment)) }
                    ?? PythonRuntimeLocator.locateFolder("web", containing: "index.html"),
                pyodideURL: pyodideURL ?? (pyodideDirectory == nil ? EngineConfiguration.defaultPyodideURL : "/pyodide/"),
                pyodideDirectory: pyodideDirectory.map { URL(fileURLWithPath: Self.expandingHome($0, environment)) }),
            logger: logger)
        let fixedURL = publicBaseURL
        let host = host
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let app = ImJoyServer.makeApplication(
            engine: engine, configuration: serverConfiguration, logger: logger,
            eventLoopGroup: eventLoopGroup
        ) { boundPort in
            let url = fixedURL ?? "\(scheme)://\(host):\(boundPort)"
            await engine.serverStarted(publicBaseURL: url)
            // Written straight to the file descriptor: a redirected stdout is block-buffered, and tools wait for this line.
            RunningEngineFile(url: url, pid: getpid()).write(in: engine.configuration.dataDirectory)
            let line = "imjoy engine listening on \(url)\n"
                + "open \(url)/?token=\(engine.admin.value) to use it as its owner (the token is kept in "
                + "\(AdminToken.file(in: engine.configuration.dataDirectory).path))\n"
            _ = line.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
        }
        // Start-up is over once it listens: give back the memory only it needed, and do so again whenever the
        // engine goes quiet after a burst (see IdleTrimmer). IMJOY_KEEP_CODE_PAGES=1 keeps everything (for
        // comparing, Benchmarks/idle_memory.sh).
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: EngineService(engine: engine)), .init(service: app),
        ]
        if environment["IMJOY_KEEP_CODE_PAGES"] != "1" { services.append(.init(service: IdleTrimmerService())) }
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        RunningEngineFile.remove(in: dataURL)
        await engine.shutdown()
        try await eventLoopGroup.shutdownGracefully()
        logger.info("Engine stopped")
    }

    /// The plugin engine's settings, or `nil` when plugins are off or cannot run.
    private func pluginSettings(dataURL: URL, environment: [String: String], logger: Logger) -> PluginEngineSettings? {
        noPlugins ? nil : runtime.settings(dataURL: dataURL, environment: environment, logger: logger)
    }

    static func expandingHome(_ path: String, _ environment: [String: String]) -> String {
        if path == "~" || path.hasPrefix("~/"), let home = environment["HOME"] {
            return home + path.dropFirst()
        }
        return path
    }
}
