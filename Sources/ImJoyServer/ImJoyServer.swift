public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import ImJoyEngine
public import Logging
public import NIOCore
public import NIOPosix
public import ServiceLifecycle

/// Builds the HTTP/WebSocket application around an ``Engine``: `…/ws` for RPC peers, `/health`, `/`.
public enum ImJoyServer {
    /// The Hummingbird application serving `engine`.
    /// - Parameters:
    ///   - eventLoopGroup: the NIO threads that run every socket. RPC routing is cheap and memory-bound, so one
    ///     thread (no cross-thread hand-offs) is the fastest setting on small machines.
    ///   - onListening: called with the bound port once the server accepts connections.
    public static func makeApplication(
        engine: Engine, configuration: ServerConfiguration, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/health") { _, _ in
            #"{"status": "ok", "connections": \#(engine.connectionCount)}"#
        }
        if let folder = engine.configuration.pluginRepositoryDirectory {
            let plugins = StaticFolder(root: folder)
            router.get("/plugins/**") { _, context in plugins.response(for: context.parameters.getCatchAll()) }
        }
        if let folder = engine.configuration.pyodideDirectory {
            let pyodide = StaticFolder(root: folder)
            router.get("/pyodide/**") { _, context in pyodide.response(for: context.parameters.getCatchAll()) }
        }
        if let folder = engine.configuration.webAppDirectory {
            let app = StaticFolder(root: folder)
            router.get("/") { _, _ in app.response(for: ["index.html"]) }
            router.get("/**") { _, context in app.response(for: context.parameters.getCatchAll()) }
        } else {
            router.get("/") { _, _ in
                "ImJoy engine is running. Connect RPC clients (hypha-rpc) to \(engine.publicBaseURL).\n"
            }
        }
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in
                let channel = RPCChildChannel(responder: responder, engine: engine, configuration: configuration)
                guard let tls = configuration.tls else { return channel }
                return try TLSChannel(channel, tlsConfiguration: tls)
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "imjoy"),
            onServerRunning: { channel in
                await onListening(channel.localAddress?.port ?? configuration.port)
            },
            eventLoopGroupProvider: .shared(eventLoopGroup),
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
        await engine.shutdown()
    }
}
