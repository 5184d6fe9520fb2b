public import Foundation
public import ImJoyEngine
public import ImJoyServer
import Logging
import ServiceLifecycle

/// A real engine and server on 127.0.0.1 with a free port, for tests.
public enum LiveServer {
    /// Runs a server for the duration of `body`, which gets its WebSocket URL (`ws://127.0.0.1:PORT/ws`);
    /// then shuts it down gracefully.
    /// `plugins` turns the engine's (temporary) data directory into plugin-engine settings; without it the
    /// engine runs no plugins.
    public static func run<T: Sendable>(
        configuration: ServerConfiguration = ServerConfiguration(host: "127.0.0.1", port: 0),
        plugins: (@Sendable (_ dataDirectory: URL) -> PluginEngineSettings)? = nil,
        _ body: @Sendable (_ url: String) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let logger = Logger(label: "server-test")
        let engine = try await Engine.make(
            configuration: EngineConfiguration(
                publicBaseURL: "http://127.0.0.1:0", dataDirectory: directory.url, plugins: plugins?(directory.url)),
            logger: logger)
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = ImJoyServer.makeApplication(engine: engine, configuration: configuration, logger: logger) { port in
            await engine.serverStarted(publicBaseURL: "http://127.0.0.1:\(port)")
            portContinuation.yield(port)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: EngineService(engine: engine)), .init(service: app)],
                gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let result = try await body("ws://127.0.0.1:\(port)/ws")
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return result
        }
    }
}
