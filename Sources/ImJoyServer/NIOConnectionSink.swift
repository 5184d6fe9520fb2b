import ImJoyEngine
import NIOCore
import NIOWebSocket

/// Writes a connection's outgoing frames on its channel. Called from any thread: on the channel's event loop
/// it writes at once; elsewhere it hops onto the loop. Writes of one loop tick share one flush.
final class NIOConnectionSink: ConnectionSink {
    let channel: any Channel
    private let fragmentThreshold: Int
    private let maxQueuedBytes: Int
    private let flushPending: NIOLoopBoundBox<Bool>
    private let closing: NIOLoopBoundBox<Bool>

    /// - Important: create it on the channel's event loop.
    init(channel: any Channel, fragmentThreshold: Int, maxQueuedBytes: Int) {
        self.channel = channel
        self.fragmentThreshold = fragmentThreshold
        self.maxQueuedBytes = maxQueuedBytes
        self.flushPending = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
        self.closing = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
    }

    func send(_ frame: OutboundFrame) {
        if channel.eventLoop.inEventLoop {
            write(frame)
        } else {
            channel.eventLoop.execute { self.write(frame) }
        }
    }

    func close(code: UInt16, reason: String) {
        if channel.eventLoop.inEventLoop {
            writeClose(code: code, reason: reason)
        } else {
            channel.eventLoop.execute { self.writeClose(code: code, reason: reason) }
        }
    }

    private func write(_ frame: OutboundFrame) {
        guard !closing.value, channel.isActive else { return }
        // Asking the channel for its buffered bytes is slow (dynamic option lookup): only do it once the
        // channel reports it is over its high-water mark.
        if !channel.isWritable, let queued = try? channel.syncOptions?.getOption(.bufferedWritableBytes),
            queued > maxQueuedBytes
        {
            writeClose(code: 1008, reason: "Client too slow: more than \(maxQueuedBytes >> 20) MiB of messages waiting")
            return
        }
        switch frame {
        case .text(let text):
            channel.write(WebSocketFrame(fin: true, opcode: .text, data: channel.allocator.buffer(string: text)), promise: nil)
        case .binary(let header, var body):
            if body.readableBytes > fragmentThreshold {
                channel.write(WebSocketFrame(fin: false, opcode: .binary, data: header), promise: nil)
                channel.write(WebSocketFrame(fin: true, opcode: .continuation, data: body), promise: nil)
            } else if body.readableBytes == 0 {
                channel.write(WebSocketFrame(fin: true, opcode: .binary, data: header), promise: nil)
            } else {
                var joined = channel.allocator.buffer(capacity: header.readableBytes + body.readableBytes)
                var header = header
                joined.writeBuffer(&header)
                joined.writeBuffer(&body)
                channel.write(WebSocketFrame(fin: true, opcode: .binary, data: joined), promise: nil)
            }
        }
        scheduleFlush()
    }

    /// Sends a control frame (ping, pong) at once.
    func sendControl(_ opcode: WebSocketOpcode, data: ByteBuffer) {
        guard channel.eventLoop.inEventLoop, !closing.value else { return }
        channel.write(WebSocketFrame(fin: true, opcode: opcode, data: data), promise: nil)
        scheduleFlush()
    }

    private func scheduleFlush() {
        guard !flushPending.value else { return }
        flushPending.value = true
        channel.eventLoop.execute {
            self.flushPending.value = false
            self.channel.flush()
        }
    }

    /// Sends a close frame, then closes the channel once it is written.
    func writeClose(code: UInt16, reason: String) {
        guard !closing.value else { return }
        closing.value = true
        var data = channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.writeInteger(code)
        data.writeString(String(reason.utf8.prefix(120)) ?? "")
        let channel = channel
        channel.writeAndFlush(WebSocketFrame(fin: true, opcode: .connectionClose, data: data)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
