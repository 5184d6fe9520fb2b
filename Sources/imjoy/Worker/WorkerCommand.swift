import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import ImJoyClient
import ImJoyEngine
import ImJoyRPC
import Logging
import ServiceLifecycle
import UnixSignals

/// `imjoy worker`: runs native-python plugins on this machine for an engine elsewhere. It dials out to the
/// engine (no inbound port or certificate needed here), registers a plugin host for its token's workspace, and
/// reconnects by itself after network loss or an engine restart, keeping its plugins running.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run native-python plugins on this machine (e.g. a GPU workstation) for an engine elsewhere.",
        discussion: """
            Connects out to the engine, so this machine needs no open port. Get a worker token on the engine's \
            machine with `imjoy token --worker --workspace W`; then plugins start here with \
            plugin-engine.start(name, host=NAME), `imjoy run --on NAME`, or the web app's host selector.
              imjoy worker --server https://engine.example.org --token "$WORKER_TOKEN" --name gpu-box
            Prints "imjoy worker NAME connected to URL" when it hosts plugins. Exits 1 when the engine refuses \
            the token (revoked, expired), 0 on SIGINT or SIGTERM (stopping its plugins).
            """)

    @Option(help: "The engine's URL (http(s)://HOST:PORT, as `imjoy serve` prints it).")
    var server: String

    @Option(parsing: .unconditional, help: "A worker token (imjoy token --worker); default: $IMJOY_WORKER_TOKEN.")
    var token: String?

    @Option(help: "This host's name, as users pick it (default: the machine's host name).")
    var name: String?

    @Option(name: .customLong("data-dir"), help: "Where the worker keeps plugin environments and work folders.")
    var dataDirectory = "~/.imjoy-worker"

    @Option(
        name: .customLong("ca-cert"),
        help: "A PEM file of certificates to trust for https:// (e.g. the engine's self-signed certificate).")
    var caCertificate: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @OptionGroup var runtime: PluginRuntimeOptions

    func validate() throws {
        guard server.hasPrefix("http://") || server.hasPrefix("https://") || server.hasPrefix("ws://")
            || server.hasPrefix("wss://")
        else {
            throw ValidationError("--server \(server) is not an engine URL (http(s)://HOST:PORT)")
        }
        if let name, name.isEmpty || name.contains(where: { "/: ".contains($0) }) {
            throw ValidationError("--name '\(name)' must be a non-empty name without '/', ':' or spaces")
        }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        StandardErrorLogging.bootstrap(level)
        let logger = Logger(label: "imjoy.worker")
        var environment = ProcessInfo.processInfo.environment
        guard let token = token ?? environment["IMJOY_WORKER_TOKEN"], !token.isEmpty else {
            throw CommandFailure(
                "imjoy worker needs a worker token: --token TOKEN or IMJOY_WORKER_TOKEN (get one on the engine's machine "
                    + "with `imjoy token --worker --workspace W`)", exitCode: 64)
        }
        let hostName = name ?? Self.machineName()
        let dataURL = URL(fileURLWithPath: ServeCommand.expandingHome(dataDirectory, environment))
        let caFile = caCertificate.map { ServeCommand.expandingHome($0, environment) }
        if let caFile {
            guard FileManager.default.fileExists(atPath: caFile) else {
                throw CommandFailure("--ca-cert \(caFile) does not exist", exitCode: 66)
            }
            // Plugins connect to the same engine: they trust the system's roots and this certificate.
            environment["SSL_CERT_FILE"] = try TrustBundle.write(adding: caFile, in: dataURL).path
        }
        guard let settings = runtime.settings(dataURL: dataURL, environment: environment, logger: logger) else {
            throw CommandFailure(
                "imjoy worker cannot run plugins: the Python runtime was not found (pass --python-runtime)", exitCode: 1)
        }
        let supervisor = PluginSupervisor(settings: settings, logger: logger)
        let host = WorkerHost(
            name: hostName, serverURL: Self.httpURL(server), supervisor: supervisor, python: runtime.python,
            environment: environment, logger: logger)
        await supervisor.attach(to: host)
        let link = WorkerLink(
            server: server, options: ConnectionOptions(
                clientID: "worker-\(hostName)", token: token, methodTimeout: .seconds(3 * 3600),
                trustedCertificatesFile: caFile),
            host: host, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: link)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let outcome: Result<Void, any Error>
        do {
            try await group.run()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await supervisor.stopAll()
        _ = host  // the supervisor holds it weakly
        if case .failure(let error) = outcome {
            throw CommandFailure("\(error)", exitCode: 1)
        }
    }

    /// The URL plugins connect to: the engine's http(s) form.
    static func httpURL(_ url: String) -> String {
        var url = url
        if url.hasPrefix("ws://") { url = "http://" + url.dropFirst(5) }
        if url.hasPrefix("wss://") { url = "https://" + url.dropFirst(6) }
        if url.hasSuffix("/ws") { url.removeLast(3) }
        return url
    }

    static func machineName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "worker" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "worker" : String(name.map { "/: ".contains($0) ? "-" : $0 })
    }
}

/// The worker's connection to the engine: connect, register the host, wait for the connection to end, then
/// connect again with a growing pause (0.5 s up to 5 s) until the engine refuses the token or the worker stops.
struct WorkerLink: Service {
    let server: String
    let options: ConnectionOptions
    let host: WorkerHost
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await loop() }
    }

    private func loop() async throws {
        var pause = Duration.milliseconds(500)
        var wasConnected = false
        while !Task.isCancelled {
            let again = wasConnected
            do {
                try await ImJoyClient.withConnection(to: server, options: options, logger: logger) { client in
                    try await client.registerService(host.service())
                    Self.say(
                        "imjoy worker \(host.name) connected to \(server) (workspace \(client.workspace))"
                            + (again ? " again" : ""))
                    let forwarding = Task { await host.events.forward(using: client, logger: logger) }
                    await client.waitUntilDisconnected()
                    forwarding.cancel()
                    await forwarding.value
                }
                wasConnected = true
                pause = .milliseconds(500)
                guard !Task.isCancelled else { return }
                Self.say("imjoy worker \(host.name): connection to the engine lost; reconnecting (plugins keep running)")
            } catch let error as ClientError where error.code == .refused && Self.isFinal(error.message) {
                throw WorkerFailure("the engine refused this worker: \(error.message)")
            } catch {
                guard !Task.isCancelled else { return }
                logger.info("Engine unreachable; retrying", metadata: ["error": "\(error)", "retry.seconds": "\(pause.inSeconds)"])
            }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(5))
        }
    }

    /// Refusals that retrying cannot fix: the token is revoked, expired or not for this engine.
    static func isFinal(_ message: String) -> Bool {
        ["revoked", "expired", "Authentication error", "Permission denied", "not issued by this engine", "does not exist"]
            .contains { message.contains($0) }
    }

    /// A line on stdout, unbuffered (tools wait for it).
    static func say(_ line: String) {
        let text = line + "\n"
        _ = text.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
    }
}

struct WorkerFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
