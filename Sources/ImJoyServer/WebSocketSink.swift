import ImJoyEngine
import NIOCore
import Synchronization

/// A connection's outgoing queue: other connections enqueue frames without waiting; one writer task per
/// socket drains it in order (so frames from one sender stay in order and fragments never interleave).
final class WebSocketSink: ConnectionSink {
    enum Command: Sendable {
        case frame(OutboundFrame, size: Int)
        case close(code: UInt16, reason: String)
    }

    let commands: AsyncStream<Command>
    private let continuation: AsyncStream<Command>.Continuation
    private let queuedBytes = Atomic<Int>(0)
    private let limit: Int

    init(maxQueuedBytes: Int) {
        (commands, continuation) = AsyncStream<Command>.makeStream()
        limit = maxQueuedBytes
    }

    func send(_ frame: OutboundFrame) {
        let size: Int
        switch frame {
        case .text(let text): size = text.utf8.count
        case .binary(let header, let body): size = header.readableBytes + body.readableBytes
        }
        let queued = queuedBytes.add(size, ordering: .relaxed).newValue
        if queued > limit {
            close(code: 1008, reason: "Client too slow: more than \(limit >> 20) MiB of messages waiting")
            return
        }
        continuation.yield(.frame(frame, size: size))
    }

    func close(code: UInt16, reason: String) {
        continuation.yield(.close(code: code, reason: reason))
        continuation.finish()
    }

    /// Called by the writer after a frame left the queue.
    func written(_ size: Int) {
        queuedBytes.subtract(size, ordering: .relaxed)
    }

    /// Ends the queue (the socket is gone).
    func finish() {
        continuation.finish()
    }
}
