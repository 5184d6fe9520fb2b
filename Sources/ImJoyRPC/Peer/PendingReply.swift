import MessagePack
import Synchronization

/// The caller's side of one call awaiting `resolve`/`reject`: a continuation that is resumed exactly once,
/// by the answer, a timeout, a disconnect or cancellation, whichever comes first.
final class PendingReply: Sendable {
    /// What a settled call produced: the raw first argument of `resolve`, with the workspace of its sender.
    struct Answer: Sendable {
        var value: MessagePackValue
        var remoteWorkspace: String
    }

    private enum State {
        case waiting(CheckedContinuation<Answer, any Error>?)
        case settled(Result<Answer, any Error>)
        case done
    }

    private struct Protected {
        var state: State = .waiting(nil)
        var lastNews = ContinuousClock.now
    }

    let timeout: Duration
    private let protected = Mutex(Protected())

    init(timeout: Duration) {
        self.timeout = timeout
    }

    /// Waits for the answer. Cancelling the waiting task settles the call with ``RPCError/Code/cancelled``.
    func wait() async throws -> Answer {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready: Result<Answer, any Error>? = protected.withLock { p in
                    switch p.state {
                    case .waiting:
                        p.state = .waiting(continuation)
                        return nil
                    case .settled(let result):
                        p.state = .done
                        return result
                    case .done:
                        return .failure(RPCError(.invalidMessage, "a call result was awaited twice"))
                    }
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            settle(.failure(RPCError(.cancelled, "the call was cancelled")))
        }
    }

    /// Settles the call; later settlements are ignored. Returns whether this one took effect.
    @discardableResult
    func settle(_ result: Result<Answer, any Error>) -> Bool {
        let continuation: CheckedContinuation<Answer, any Error>?? = protected.withLock { p in
            switch p.state {
            case .waiting(let c):
                if c == nil { p.state = .settled(result) } else { p.state = .done }
                return .some(c)
            case .settled, .done:
                return .none
            }
        }
        guard let continuation else { return false }
        continuation?.resume(with: result)
        return true
    }

    var isSettled: Bool {
        protected.withLock { p in
            if case .waiting = p.state { return false }
            return true
        }
    }

    /// Restarts the timeout (the callee is alive and working).
    func heartbeat() {
        protected.withLock { $0.lastNews = .now }
    }

    /// Whether the call has gone without news (creation, heartbeat) for its whole timeout by `now`.
    func isOverdue(at now: ContinuousClock.Instant) -> Bool {
        protected.withLock { now - $0.lastNews >= timeout }
    }
}
