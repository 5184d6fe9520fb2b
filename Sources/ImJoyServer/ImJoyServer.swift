public import Hummingbird
import HummingbirdWebSocket
public import ImJoyEngine
public import Logging
import NIOCore
public import ServiceLifecycle

/// Builds the HTTP/WebSocket application around an ``Engine``: `/ws` for RPC peers, `/health`, `/`.
public enum ImJoyServer {
    /// The Hummingbird application serving `engine`.
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public static func makeApplication(
        engine: Engine, configuration: ServerConfiguration, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.get("/health") { _, _ in
            #"{"status": "ok", "connections": \#(engine.connectionCount)}"#
        }
        router.get("/") { _, _ in
            "ImJoy engine is running. Connect RPC clients (hypha-rpc) to \(engine.publicBaseURL).\n"
        }
        router.ws("/ws") { inbound, outbound, context in
            await WebSocketConnection(engine: engine, configuration: configuration, logger: context.logger)
                .run(inbound: inbound, outbound: outbound)
        }
        return Application(
            router: router,
            server: .http1WebSocketUpgrade(
                webSocketRouter: router,
                configuration: .init(
                    ws: .init(maxFrameSize: configuration.maxMessageSize, autoPing: .enabled(timePeriod: .seconds(30))))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "imjoy"),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? configuration.port)
            },
            logger: logger)
    }
}

/// Runs the engine's manager peer for the life of a `ServiceGroup`.
public struct EngineService: Service {
    let engine: Engine

    public init(engine: Engine) {
        self.engine = engine
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await engine.run()
        }
    }
}
