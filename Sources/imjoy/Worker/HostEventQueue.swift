import ImJoyClient
import ImJoyRPC
import Logging
import Synchronization

/// The state changes and log lines of a worker's plugins on their way to the engine (`report_plugin_events`),
/// which passes them on as `plugin_status` and `plugin_log` events. In order, in batches of what queued up
/// during the previous call; while no connection forwards them at most `capacity` wait, and the oldest go first.
final class HostEventQueue: Sendable {
    private struct State {
        var events: [RPCValue] = []
        var dropped = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    let capacity: Int
    let batchSize: Int
    private let state = Mutex(State())

    init(capacity: Int = 2000, batchSize: Int = 200) {
        self.capacity = capacity
        self.batchSize = batchSize
    }

    /// Queues an event and wakes the forwarder.
    func add(_ event: RPCValue) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.events.append(event)
            if state.events.count > capacity {
                let excess = state.events.count - capacity
                state.events.removeFirst(excess)
                state.dropped += excess
            }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Events waiting to be sent (for tests and logs).
    var count: Int { state.withLock { $0.events.count } }

    /// Sends queued events through `client` until the task is cancelled (the connection ended).
    func forward(using client: ImJoyClient, logger: Logger) async {
        await forward(logger: logger) { batch in _ = try await client.manager("report_plugin_events", [.array(batch)]) }
    }

    /// Hands queued events to `send`, a batch at a time and in order, until the task is cancelled. A batch that
    /// `send` fails is dropped: the engine lists the worker's plugins again when it reconnects.
    func forward(logger: Logger, send: @Sendable ([RPCValue]) async throws -> Void) async {
        while !Task.isCancelled {
            await nextEvents()
            let (batch, dropped) = state.withLock { state in
                let batch = Array(state.events.prefix(batchSize))
                state.events.removeFirst(batch.count)
                defer { state.dropped = 0 }
                return (batch, state.dropped)
            }
            if dropped > 0 {
                logger.notice("Plugin events dropped while the engine was unreachable", metadata: ["events": "\(dropped)"])
            }
            guard !batch.isEmpty else { continue }
            do {
                try await send(batch)
            } catch {
                logger.debug("The engine did not take plugin events", metadata: ["events": "\(batch.count)", "error": "\(error)"])
            }
        }
    }

    /// Returns when events are queued or the task is cancelled.
    private func nextEvents() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.events.isEmpty || Task.isCancelled { return true }
                    state.waiter?.resume()
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }?.resume()
        }
    }
}
