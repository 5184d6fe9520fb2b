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

    @Option(help: "Address to bind. Only loopback addresses are allowed until token access control lands.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one.")
    var port = 9527

    @Option(name: .customLong("data-dir"), help: "Where the engine keeps its state.")
    var dataDirectory = "~/.imjoy"

    @Option(name: .customLong("public-base-url"), help: "URL clients use to reach the engine (default: http://HOST:PORT).")
    var publicBaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(help: "Network threads. One is fastest for RPC routing on small machines; add more for TLS or many cores.")
    var threads = 1

    func validate() throws {
        guard ["127.0.0.1", "localhost", "::1"].contains(host) else {
            throw ValidationError(
                "--host \(host) would expose the engine to the network without authentication; "
                    + "use --host 127.0.0.1 (serving beyond loopback needs the admin token, not implemented yet)")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a TCP port (0-65535)") }
        guard (1...64).contains(threads) else { throw ValidationError("--threads \(threads) must be between 1 and 64") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "imjoy")
        var path = dataDirectory
        if path == "~" || path.hasPrefix("~/"), let home = ProcessInfo.processInfo.environment["HOME"] {
            path = home + path.dropFirst()
        }
        let dataURL = URL(fileURLWithPath: path)
        let engine = try await Engine.make(
            configuration: EngineConfiguration(
                publicBaseURL: publicBaseURL ?? "http://\(host):\(port)", dataDirectory: dataURL),
            logger: logger)
        let fixedURL = publicBaseURL
        let host = host
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let app = ImJoyServer.makeApplication(
            engine: engine, configuration: ServerConfiguration(host: host, port: port), logger: logger,
            eventLoopGroup: eventLoopGroup
        ) { boundPort in
            let url = fixedURL ?? "http://\(host):\(boundPort)"
            await engine.serverStarted(publicBaseURL: url)
            // Written straight to the file descriptor: a redirected stdout is block-buffered, and tools wait for this line.
            let line = "imjoy engine listening on \(url)\n"
            _ = line.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: EngineService(engine: engine)), .init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await eventLoopGroup.shutdownGracefully()
        logger.info("Engine stopped")
    }
}
