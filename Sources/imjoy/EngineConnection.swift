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
import ImJoyServer
import Logging
import NIOCore
import NIOExecutors
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// Where a command finds its engine: `--server URL`, else the `imjoy serve` running on the data directory, else an
/// engine embedded in the command for its duration (on 127.0.0.1, admitting only the owner).
struct EngineOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The engine's data directory.")
    var dataDirectory = "~/.imjoy"

    @Option(help: "An engine's URL (default: the one `imjoy serve` runs on --data-dir, else one started for this command).")
    var server: String?

    /// Parsed unconditionally: a URL-safe token may begin with `-`, which would otherwise read as a flag.
    @Option(parsing: .unconditional, help: "Token for --server (default: the admin token of --data-dir).")
    var token: String?

    @Flag(help: "Log what the engine does (to standard error).")
    var verbose = false

    var dataURL: URL {
        URL(fileURLWithPath: ServeCommand.expandingHome(dataDirectory, ProcessInfo.processInfo.environment))
    }
}

/// The record `imjoy serve` keeps in its data directory while it runs, so other commands use it.
struct RunningEngineFile: Codable {
    var url: String
    var pid: Int32

    static func url(in dataDirectory: URL) -> URL { dataDirectory.appendingPathComponent("engine.json") }

    /// The engine serving `dataDirectory`, if its process is alive.
    static func running(in dataDirectory: URL) -> RunningEngineFile? {
        guard let data = FileManager.default.contents(atPath: url(in: dataDirectory).path),
            let record = try? JSONDecoder().decode(RunningEngineFile.self, from: data), kill(record.pid, 0) == 0
        else { return nil }
        return record
    }

    func write(in dataDirectory: URL) {
        if let data = try? JSONEncoder().encode(self) {
            try? data.write(to: Self.url(in: dataDirectory), options: .atomic)
        }
    }

    static func remove(in dataDirectory: URL) {
        try? FileManager.default.removeItem(at: url(in: dataDirectory))
    }
}

enum EngineConnection {
    /// Connects as the engine's owner (or with `--token`) to `workspace`, runs `body` with the client and the
    /// `public/plugin-engine` service, and disconnects (stopping an embedded engine).
    /// An embedded engine runs native-python plugins only when `pluginRuntime` is given (`imjoy run`).
    static func run<T: Sendable>(
        _ options: EngineOptions, workspace: String? = nil, pluginRuntime: PluginRuntimeOptions? = nil,
        _ body: @escaping @Sendable (ImJoyClient, RemoteService) async throws -> T
    ) async throws -> T {
        StandardErrorLogging.bootstrap(options.verbose ? .info : .error)
        let data = options.dataURL
        if let server = options.server ?? RunningEngineFile.running(in: data)?.url {
            let token = try options.token ?? adminToken(data, server: server)
            return try await connect(server, token: token, workspace: workspace, body) { options, body in
                try await ImJoyClient.withConnection(to: server, options: options, logger: Logger(label: "imjoy.cli"), body)
            }
        }
        return try await withEmbeddedEngine(data, pluginRuntime: pluginRuntime) { engine, eventLoop, url, token in
            // In process, on the engine's event loop: the CLI's calls reach the engine, and the plugins' sockets,
            // without a socket or a thread hop of their own (the plugins still connect to the engine's socket).
            // Connecting takes no time this way, so first let the engine finish registering plugin-engine.
            await engine.waitForPluginEngine()
            let link = await EmbeddedLink.open(
                engine, options: clientOptions(token: token, workspace: workspace),
                executor: EventLoopTaskExecutor(eventLoop: eventLoop))
            return try await connect(url, token: token, workspace: workspace, body) { options, body in
                try await ImJoyClient.withConnection(through: link, options: options, logger: Logger(label: "imjoy.cli"), body)
            }
        }
    }

    private static func adminToken(_ data: URL, server: String) throws -> String {
        guard FileManager.default.fileExists(atPath: AdminToken.file(in: data).path) else {
            throw ValidationError(
                "No admin token in \(data.path) for \(server): pass --token, or --data-dir of the engine you mean")
        }
        return try AdminToken.load(dataDirectory: data).value
    }

    /// The CLI's client settings: long calls (a plugin step may compute for minutes) and large frames.
    private static func clientOptions(token: String, workspace: String?) -> ConnectionOptions {
        ConnectionOptions(
            workspace: workspace, token: token, methodTimeout: .seconds(300),
            // hypha-rpc peers unpack frames up to 512 000 bytes (the engine forwards no larger); below that no chunks.
            chunkSize: 500_000)
    }

    /// Connects with `open` (over a socket or in process), then runs `body` with the client and `plugin-engine`.
    private static func connect<T: Sendable>(
        _ url: String, token: String, workspace: String?,
        _ body: @escaping @Sendable (ImJoyClient, RemoteService) async throws -> T,
        open: (ConnectionOptions, @Sendable (ImJoyClient) async throws -> T) async throws -> T
    ) async throws -> T {
        do {
            return try await open(clientOptions(token: token, workspace: workspace)) { client in
                let engine = try await client.getService("public/plugin-engine")
                return try await body(client, engine)
            }
        } catch let error as ClientError {
            throw CommandFailure(
                "cannot use the engine at \(url): \(error.message)",
                exitCode: error.code == .closed ? ExitCodes.engineUnavailable : 1)
        }
    }

    /// Runs an engine on 127.0.0.1 (free port) for the duration of `body`; with plugin processes only when
    /// `pluginRuntime` is given.
    private static func withEmbeddedEngine<T: Sendable>(
        _ data: URL, pluginRuntime: PluginRuntimeOptions?,
        _ body: @escaping @Sendable (_ engine: Engine, _ eventLoop: any EventLoop, _ url: String, _ token: String) async throws -> T
    ) async throws -> T {
        let logger = Logger(label: "imjoy.embedded")
        let plugins = pluginRuntime?.settings(
            dataURL: data, environment: ProcessInfo.processInfo.environment, logger: logger)
        let engine = try await Engine.make(
            configuration: EngineConfiguration(
                publicBaseURL: "http://127.0.0.1:0", dataDirectory: data, plugins: plugins, allowsAnonymous: false,
                pluginRepositoryDirectory: PythonRuntimeLocator.locateFolder("plugins", containing: "manifest.imjoy.json")),
            logger: logger)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        // One event loop for every socket and the CLI's own client (see ImJoyServer.makeApplication).
        let eventLoopGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { eventLoopGroup.shutdownGracefully { _ in } }
        let app = ImJoyServer.makeApplication(
            engine: engine, configuration: ServerConfiguration(host: "127.0.0.1", port: 0), logger: logger,
            eventLoopGroup: eventLoopGroup
        ) { port in
            await engine.serverStarted(publicBaseURL: "http://127.0.0.1:\(port)")
            portContinuation.yield(port)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: EngineService(engine: engine)), .init(service: app)],
                gracefulShutdownSignals: [.sigint, .sigterm], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let result: Result<T, any Error>
            do {
                result = .success(try await body(engine, eventLoopGroup.next(), "http://127.0.0.1:\(port)", engine.admin.value))
            } catch {
                result = .failure(error)
            }
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return try result.get()
        }
    }
}

/// A command that ran but failed: printed as one line (`Error: …`), exit code 1 unless it says otherwise.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    var exitCode: Int32
    init(_ message: String, exitCode: Int32 = 1) {
        description = message
        self.exitCode = exitCode
    }
}

extension RPCValue {
    /// A remote error's message without the `RemoteError:` prefix hypha-style peers add.
    static func message(of error: any Error) -> String {
        var text = (error as? RemoteError)?.message ?? "\(error)"
        if text.hasPrefix("RemoteError:") { text = String(text.dropFirst("RemoteError:".count)) }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
