import Foundation
@testable import ImJoyEngine
import ImJoyRPC
import ImJoyTesting
import Logging
import MessagePack
import NIOCore
import Synchronization

/// Captures what the engine sends to one connection.
final class RecordingSink: ConnectionSink {
    let frames: AsyncStream<OutboundFrame>
    private let continuation: AsyncStream<OutboundFrame>.Continuation
    private let closeInfo = Mutex<(UInt16, String)?>(nil)

    init() {
        (frames, continuation) = AsyncStream<OutboundFrame>.makeStream()
    }

    func send(_ frame: OutboundFrame) { continuation.yield(frame) }

    func close(code: UInt16, reason: String) {
        closeInfo.withLock { $0 = (code, reason) }
        continuation.finish()
    }

    var closed: (code: UInt16, reason: String)? { closeInfo.withLock { $0 } }
}

extension OutboundFrame {
    /// The frame's bytes as the socket would carry them.
    var data: Data {
        switch self {
        case .text(let text): return Data(text.utf8)
        case .binary(let header, let body): return Data(header.readableBytesView) + Data(body.readableBytesView)
        }
    }

    var text: String? {
        if case .text(let t) = self { return t }
        return nil
    }
}

/// An engine with no network: connections are driven directly.
struct EngineHarness {
    let engine: Engine
    let directory: TemporaryDirectory

    static func make(configure: (inout EngineConfiguration) -> Void = { _ in }) async throws -> EngineHarness {
        let directory = try TemporaryDirectory()
        var configuration = EngineConfiguration(publicBaseURL: "http://engine.test", dataDirectory: directory.url)
        configure(&configuration)
        let engine = try await Engine.make(configuration: configuration, logger: Logger(label: "engine-test"))
        return EngineHarness(engine: engine, directory: directory)
    }

    /// Runs `body` while the manager peer is served.
    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await engine.run() }
            defer { group.cancelAll() }
            let result = try await body()
            directory.remove()
            return result
        }
    }

    static func authFrame(_ clientID: String, workspace: String? = nil, token: String? = nil, reconnection: String? = nil)
        -> String
    {
        var fields = [#""client_id": "\#(clientID)""#]
        fields.append(#""workspace": \#(workspace.map { "\"\($0)\"" } ?? "null")"#)
        fields.append(#""token": \#(token.map { "\"\($0)\"" } ?? "null")"#)
        fields.append(#""reconnection_token": \#(reconnection.map { "\"\($0)\"" } ?? "null")"#)
        return "{\(fields.joined(separator: ", "))}"
    }
}

/// A client of the engine built on ``RPCPeer``, doing what hypha-rpc does on connect: it registers its
/// built-in service and subscribes to `client_disconnected`.
final class TestClient: Sendable {
    let connection: ClientConnection
    let peer: RPCPeer
    let info: [String: String]
    let sink: RecordingSink
    let engine: Engine
    private let loop: Task<Void, Never>

    var workspace: String { connection.workspace }
    var address: String { connection.address }
    var reconnectionToken: String { info["reconnection_token"] ?? "" }
    var managerAddress: String { engine.configuration.managerAddress }

    /// Sends the peer's frames into the engine as the server adapter would.
    struct Transport: RPCTransport {
        let engine: Engine
        let connection: ClientConnection

        func send(_ frame: Data) async throws {
            engine.receive(binary: ByteBuffer(bytes: frame), from: connection)
        }
    }

    private init(connection: ClientConnection, info: [String: String], sink: RecordingSink, engine: Engine) {
        self.connection = connection
        self.info = info
        self.sink = sink
        self.engine = engine
        let configuration = RPCPeer.Configuration(
            clientID: connection.clientID, workspace: connection.workspace, serverBaseURL: engine.publicBaseURL,
            managerID: engine.configuration.managerID, methodTimeout: .seconds(10))
        let peer = RPCPeer(
            configuration: configuration, transport: Transport(engine: engine, connection: connection),
            logger: Logger(label: "client"))
        self.peer = peer
        let frames = sink.frames.compactMap { frame -> Data? in
            if case .binary = frame { return frame.data }
            return nil
        }
        loop = Task { await peer.run(frames: frames) }
    }

    /// Connects and registers like hypha-rpc's `connect_to_server`.
    static func connect(
        _ engine: Engine, _ clientID: String, workspace: String? = nil, token: String? = nil,
        reconnection: String? = nil
    ) async throws -> TestClient {
        let sink = RecordingSink()
        let (connection, info) = try await engine.connect(
            authFrame: EngineHarness.authFrame(clientID, workspace: workspace, token: token, reconnection: reconnection),
            sink: sink)
        let json = (try JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        let client = TestClient(connection: connection, info: json, sink: sink, engine: engine)
        _ = try await client.manager("register_service", [.encoded(await client.peer.builtInServiceInfo())])
        _ = try await client.manager("subscribe", [["client_disconnected"]])
        return client
    }

    /// Calls a workspace-manager method.
    func manager(_ method: String, _ arguments: [RPCValue] = [], kwargs: RPCObject? = nil) async throws -> RPCValue {
        try await peer.call(
            target: managerAddress, method: "services.default.\(method)", arguments: arguments, kwargs: kwargs)
    }

    /// Adds a local service and registers it with the manager.
    func register(_ service: RPCService) async throws {
        await peer.addService(service)
        _ = try await manager("register_service", [.encoded(await peer.serviceInfo(id: service.id)!)])
    }

    /// Closes the socket as far as the engine is concerned.
    func disconnect() async {
        await engine.disconnected(connection)
        loop.cancel()
    }
}
