import Foundation
import ImJoyClient
import ImJoyEngine
import ImJoyRPC
import ImJoyServer
import ImJoyTesting
import Logging
import ServiceLifecycle
import Testing

@testable import imjoy

/// The CLI's in-process connection to the engine it embeds (`EmbeddedLink`), with a real engine and no socket.
@Suite struct EmbeddedLinkTests {
    /// Runs an engine (no HTTP server) for the duration of `body`.
    private func withEngine<T: Sendable>(_ body: @Sendable (Engine) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let logger = Logger(label: "embedded-link-test")
        let engine = try await Engine.make(
            configuration: EngineConfiguration(
                publicBaseURL: "http://127.0.0.1:0", dataDirectory: directory.url, allowsAnonymous: false),
            logger: logger)
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
