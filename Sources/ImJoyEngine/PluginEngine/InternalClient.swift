#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC
import Logging
import MessagePack
import NIOCore

/// A peer inside the engine process that joins a workspace like any client (it is in the connection table,
/// its frames go through the router), so its services are found and called the usual way.
struct InternalClient: Sendable {
    let connection: ClientConnection
    let peer: RPCPeer
    let frames: AsyncStream<Data>

    /// A client at `<workspace>/<clientID>` acting as `user`; it is reachable once ``run()`` runs.
    init(engine: Engine, workspace: String, clientID: String, user: UserInfo) {
        let (frames, inbox) = AsyncStream<Data>.makeStream()
        self.frames = frames
        let connection = ClientConnection(
            serial: engine.table.nextSerial(), workspace: workspace, clientID: clientID, user: user,
            sink: InternalSink(inbox: inbox))
        self.connection = connection
        self.peer = RPCPeer(
            configuration: .init(
                clientID: clientID, workspace: workspace, serverBaseURL: engine.publicBaseURL,
                managerID: engine.configuration.managerID, methodTimeout: .seconds(60)),
            transport: InternalTransport(router: engine.router, connection: connection), logger: engine.logger)
    }

    /// Joins the connection table and registers `service` with the workspace manager.
    func join(_ engine: Engine, offering service: RPCService) async throws {
        _ = engine.table.insert(connection, replacing: nil)
        await peer.addService(service)
        guard let info = await peer.serviceInfo(id: service.id) else { return }
        _ = try await peer.call(
            target: engine.configuration.managerAddress, method: "services.default.register_service",
            arguments: [.encoded(info)])
    }

    /// Serves calls until the frames end.
    func run() async {
        await peer.run(frames: frames)
    }
}

/// Delivers the router's frames for an internal client to its peer.
private struct InternalSink: ConnectionSink {
    let inbox: AsyncStream<Data>.Continuation

    func send(_ frame: OutboundFrame) {
        switch frame {
        case .text:
            break
        case .binary(let header, let body):
            var data = Data(header.readableBytesView)
            data.append(contentsOf: body.readableBytesView)
            inbox.yield(data)
        }
    }

    func close(code: UInt16, reason: String) {
        inbox.finish()
    }
}

/// Sends an internal client's frames through the router, as if they came from its socket.
private struct InternalTransport: RPCTransport {
    let router: MessageRouter
    let connection: ClientConnection

    func send(_ frame: Data) async throws {
        do {
            try router.route(ByteBuffer(bytes: frame), from: connection)
        } catch {
            throw RPCError(.invalidMessage, error.message)
        }
    }
}
