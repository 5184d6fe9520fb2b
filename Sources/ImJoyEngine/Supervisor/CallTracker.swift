import Synchronization

/// The calls waiting on one supervised plugin, so that when its process ends every caller hears why at once
/// (exit code, last stderr lines) instead of a bare "client disconnected".
///
/// The router feeds it: a call with a `session` to the plugin opens an entry; the plugin's answer (a frame with
/// that `parent`) closes it.
public final class CallTracker: Sendable {
    private struct State {
        var pending: [String: String] = [:]
        var exitReason: String?
        var waiters: [CheckedContinuation<String?, Never>] = []
    }

    private let state = Mutex(State())
    /// Calls tracked at most; beyond it callers still get the generic disconnect error.
    let limit: Int

    public init(limit: Int = 65_536) {
        self.limit = limit
    }

    /// A caller (`from`) started call `session` on the plugin.
    func opened(_ session: String, by caller: String) {
        state.withLock { s in
            if s.pending.count < limit { s.pending[session] = caller }
        }
    }

    /// The plugin answered `session`.
    func closed(_ session: String) {
        _ = state.withLock { $0.pending.removeValue(forKey: session) }
    }

    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// Takes the pending calls (session → caller address); later answers are not expected.
    func drain() -> [String: String] {
        state.withLock { s in
            defer { s.pending = [:] }
            return s.pending
        }
    }

    /// Records why the plugin's process ended (set by the supervisor; first reason wins).
    func setExitReason(_ reason: String) {
        let waiters = state.withLock { s -> [CheckedContinuation<String?, Never>] in
            guard s.exitReason == nil else { return [] }
            s.exitReason = reason
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume(returning: reason) }
    }

    /// The exit reason, waiting up to `timeout` for the supervisor to learn it.
    func exitReason(waitingUpTo timeout: Duration) async -> String? {
        if let reason = state.withLock({ $0.exitReason }) { return reason }
        return await withTaskGroup(of: String?.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let ready = self.state.withLock { s -> String? in
                        if let reason = s.exitReason { return reason }
                        s.waiters.append(continuation)
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            if first == nil {
                // Release the waiter so the task group can finish.
                let waiters = state.withLock { s -> [CheckedContinuation<String?, Never>] in
                    defer { s.waiters = [] }
                    return s.waiters
                }
                for waiter in waiters { waiter.resume(returning: nil) }
            }
            group.cancelAll()
            return first ?? state.withLock { $0.exitReason }
        }
    }
}
