import Foundation
import ImJoyClient
import ImJoyEngine
import ImJoyRPC
import MessagePack
import NIOCore
import Synchronization

/// The CLI's connection to the engine it embeds: its frames go straight to the engine's router and the engine's
/// frames for it straight to its peer, without a socket (no framing, masking or system calls per message). Plugin
/// processes still connect over the engine's socket.
enum EmbeddedLink {
    /// Authenticates with `options` (as a socket's first frame would) and returns the link; a refused handshake
    /// gives a link whose `connection_info` is the engine's error, which ``ImJoyClient`` reports.
    /// `executor`: where the client's tasks run (the embedded engine's only event loop, so frames cross no thread).
    static func open(_ engine: Engine, options: ConnectionOptions, executor: (any TaskExecutor)? = nil) async -> InProcessLink {
        let (frames, continuation) = AsyncStream<Data>.makeStream()
        let sink = Sink(frames: continuation)
        do {
            let (connection, info) = try await engine.connect(
                authFrame: options.authenticationText, sink: sink, remoteHost: "127.0.0.1")
            return InProcessLink(
                connectionInfo: info, inbound: frames,
                send: { frame in
                    guard !sink.isClosed else { throw ClientError(.closed, "The embedded engine closed the connection") }
                    engine.receive(binary: ByteBuffer(bytes: frame), from: connection)
                },
                close: {
                    sink.close(code: 1000, reason: "")
                    await engine.disconnected(connection)
                }, executor: executor)
        } catch {
            continuation.finish()
            return InProcessLink(
                connectionInfo: JSONText.encode(["type": "error", "message": .string(error.message)]), inbound: frames,
                send: { _ in throw ClientError(.closed, "The embedded engine refused the connection") }, close: {})
        }
    }

    /// Where the engine writes the CLI's frames: binary ones become the client's inbound frames; text ones (the
    /// handshake's `connection_info`, returned by `connect` as well) are not needed.
    final class Sink: ConnectionSink {
        private let frames: AsyncStream<Data>.Continuation
        private let closed = Atomic(false)

        init(frames: AsyncStream<Data>.Continuation) {
            self.frames = frames
        }

        var isClosed: Bool { closed.load(ordering: .relaxed) }

        func send(_ frame: OutboundFrame) {
            guard case .binary(let header, let body) = frame, !isClosed else { return }
            var data = Data(capacity: header.readableBytes + body.readableBytes)
            data.append(contentsOf: header.readableBytesView)
            data.append(contentsOf: body.readableBytesView)
            frames.yield(data)
        }

        func close(code: UInt16, reason: String) {
            closed.store(true, ordering: .relaxed)
            frames.finish()
        }
    }
}
