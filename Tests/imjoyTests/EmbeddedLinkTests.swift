import Foundation
import ImJoyClient
import ImJoyEngine
import ImJoyRPC
import ImJoyServer
import ImJoyTesting
import Logging
import ServiceLifecycle
import Synchronization
import Testing

@testable import imjoy

/// The CLI's in-process connection to the engine it embeds (`EmbeddedLink`), with a real engine and no socket.
@Suite struct EmbeddedLinkTests {
    private let logger = Logger(label: "embedded-link-test")

    /// An engine (not running yet) that admits only its owner.
    private func makeEngine(in directory: TemporaryDirectory) async throws -> Engine {
        try await Engine.make(
            configuration: EngineConfiguration(
                publicBaseURL: "http://127.0.0.1:0", dataDirectory: directory.url, allowsAnonymous: false),
            logger: logger)
    }

    /// Runs an engine (no HTTP server) for the duration of `body`.
    private func withEngine<T: Sendable>(_ body: @Sendable (Engine) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let engine = try await makeEngine(in: directory)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: EngineService(engine: engine))], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            let result: Result<T, any Error>
            do { result = .success(try await body(engine)) } catch { result = .failure(error) }
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return try result.get()
        }
    }

    @Test("two in-process clients register, find and call a service through the engine; leaving removes the service", .timeLimit(.minutes(1)))
    func callsThroughTheEngine() async throws {
        try await withEngine { engine in
            let options = ConnectionOptions(clientID: "provider", token: engine.admin.value)
            let (answer, workspace) = try await ImJoyClient.withConnection(through: await EmbeddedLink.open(engine, options: options)) { provider in
                try await provider.registerService(
                    RPCService(
                        id: "calc", visibility: .public,
                        members: ["add": .function(RPCFunction(name: "add") { call in
                            let sum = (call.positional[0].intValue ?? 0) + (call.keyword["b"]?.intValue ?? 0)
                            return .int(Int64(sum))
                        })]))
                let consumerOptions = ConnectionOptions(clientID: "consumer", token: engine.admin.value)
                return try await ImJoyClient.withConnection(through: await EmbeddedLink.open(engine, options: consumerOptions)) { consumer in
                    let calc = try await consumer.getService("\(provider.workspace)/provider:calc")
                    return (try await calc.call("add", 40, kwargs: ["b": 2]), provider.workspace)
                }
            }
            #expect(answer.intValue == 42)
            // The provider's connection is gone with its service: a later client no longer finds it.
            let laterOptions = ConnectionOptions(clientID: "later", token: engine.admin.value)
            try await ImJoyClient.withConnection(through: await EmbeddedLink.open(engine, options: laterOptions)) { later in
                await #expect(throws: (any Error).self) { try await later.getService("\(workspace)/provider:calc") }
            }
        }
    }

    @Test("waitForPluginEngine returns only once the engine runs and public/plugin-engine is there", .timeLimit(.minutes(1)))
    func waitsForThePluginEngine() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let engine = try await makeEngine(in: directory)
        let waited = Flag()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                await engine.waitForPluginEngine()
                waited.set()
            }
            try await Task.sleep(for: .milliseconds(200))
            #expect(!waited.isSet, "returned before the engine ran")
            let group = ServiceGroup(
                configuration: .init(services: [.init(service: EngineService(engine: engine))], gracefulShutdownSignals: [], logger: logger))
            tasks.addTask { try await group.run() }
            for _ in 0..<500 where !waited.isSet { try await Task.sleep(for: .milliseconds(10)) }
            #expect(waited.isSet)
            let options = ConnectionOptions(token: engine.admin.value)
            let service = try await ImJoyClient.withConnection(through: await EmbeddedLink.open(engine, options: options)) { client in
                try await client.getService("public/plugin-engine")
            }
            #expect(service.id.hasSuffix(":plugin-engine"))
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("cancelling a wait for the end of an in-process connection closes it, as with a socket", .timeLimit(.minutes(1)))
    func cancellingTheWaitCloses() async throws {
        try await withEngine { engine in
            let options = ConnectionOptions(token: engine.admin.value)
            try await ImJoyClient.withConnection(through: await EmbeddedLink.open(engine, options: options)) { client in
                let waiting = Task { await client.waitUntilDisconnected() }
                try await Task.sleep(for: .milliseconds(50))
                waiting.cancel()
                await waiting.value
                await #expect(throws: (any Error).self) { try await client.getService("public/plugin-engine") }
            }
        }
    }

    @Test("a wrong token is refused with the engine's reason, as over a socket", .timeLimit(.minutes(1)))
    func refusesAWrongToken() async throws {
        try await withEngine { engine in
            let link = await EmbeddedLink.open(engine, options: ConnectionOptions(token: "not-a-token"))
            await #expect {
                try await ImJoyClient.withConnection(through: link) { _ in }
            } throws: { error in
                guard let error = error as? ClientError else { return false }
                return error.code == .refused && error.message.localizedCaseInsensitiveContains("token")
            }
        }
    }
}

/// A flag one task sets and another reads.
private final class Flag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
