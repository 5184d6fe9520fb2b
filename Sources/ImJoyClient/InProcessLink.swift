#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import ImJoyRPC

/// A connection to an engine in the same process, without a socket: no WebSocket framing, masking or system calls
/// per message. The program that embeds the engine moves the frames (the `imjoy` CLI does for its embedded
/// engine); ``ImJoyClient/withConnection(through:options:logger:_:)`` uses it like a socket.
public struct InProcessLink: Sendable {
    let connectionInfoText: String
    let inbound: AsyncStream<Data>
    let sendFrame: @Sendable (Data) async throws -> Void
    let closeLink: @Sendable () async -> Void
    let executor: (any TaskExecutor)?
    let closed = OneTimeSignal()

    /// - Parameters:
    ///   - connectionInfo: the engine's answer to ``ConnectionOptions/authenticationText`` (its `connection_info`
    ///     text frame, or an `{"type": "error"}` one).
    ///   - inbound: the engine's binary frames for this client; it ends when the engine drops the connection.
    ///   - send: hands one of the client's frames to the engine.
    ///   - close: ends the connection (the engine forgets the client); `inbound` must end too.
    ///   - executor: where the client's tasks run; the engine's own event loop when its sockets all live on one, so
    ///     a frame crosses no thread (`nil`: the default executor).
    public init(
        connectionInfo: String, inbound: AsyncStream<Data>, send: @escaping @Sendable (Data) async throws -> Void,
        close: @escaping @Sendable () async -> Void, executor: (any TaskExecutor)? = nil
    ) {
        self.executor = executor
        self.connectionInfoText = connectionInfo
        self.inbound = inbound
        self.sendFrame = send
        self.closeLink = close
    }

    struct Transport: RPCTransport {
        let sendFrame: @Sendable (Data) async throws -> Void

        func send(_ frame: Data) async throws {
            try await sendFrame(frame)
        }
    }
}

extension InProcessLink: ClientLink {
    var transport: any RPCTransport { Transport(sendFrame: sendFrame) }

    func serve(_ peer: RPCPeer) async {
        await serveFrames(inbound, to: peer)
        closed.fire()
    }

    /// As a socket's: cancelling the waiting task closes the link (its inbound frames end, so `serve` returns).
    func waitUntilClosed() async {
        let closeLink = closeLink
        await withTaskCancellationHandler {
            await closed.wait()
        } onCancel: {
            Task { await closeLink() }
        }
    }

    func close() async {
        await closeLink()
    }
}
