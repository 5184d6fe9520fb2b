/// A call this peer runs for a caller that asked to hear, while it works, that it is still alive.
struct CallInProgress: Sendable {
    let heartbeat: RemoteFunction
    let interval: Duration
    var lastBeat: ContinuousClock.Instant
}

extension RPCPeer {
    /// Notes a call that starts running for a caller who wants heartbeats (its promise has a `heartbeat`
    /// callback); returns its number for ``callEnded(_:)``, or `nil` when the caller wants none.
    ///
    /// One watcher per peer sends the heartbeats, and only while such calls run: a call that finishes within
    /// its interval (nearly all) costs two dictionary operations, not a task group and a timer.
    func callStarted(_ reply: ReplyChannel) -> UInt64? {
        guard let heartbeat = reply.heartbeat, !isClosed else { return nil }
        lastCallNumber += 1
        callsInProgress[lastCallNumber] = CallInProgress(heartbeat: heartbeat, interval: reply.interval, lastBeat: .now)
        if heartbeatWatch == nil {
            heartbeatWatch = Task { await self.beatWhileCallsRun() }
        }
        return lastCallNumber
    }

    func callEnded(_ number: UInt64) {
        callsInProgress.removeValue(forKey: number)
    }

    /// Calls the caller's heartbeat of every call that ran a whole interval since its last one; ends when no
    /// call runs. Ticks at a quarter of the shortest interval (10 ms to 1 s), so a beat is at most that late.
    private func beatWhileCallsRun() async {
        while !callsInProgress.isEmpty, !Task.isCancelled {
            let shortest = callsInProgress.values.map(\.interval).min() ?? .seconds(1)
            let tick = max(.milliseconds(10), min(.seconds(1), shortest / 4))
            do { try await Task.sleep(for: tick) } catch { break }
            let now = ContinuousClock.now
            for (number, call) in callsInProgress where now - call.lastBeat >= call.interval {
                callsInProgress[number]?.lastBeat = now
                _ = try? await call.heartbeat.peer.send(call.heartbeat, arguments: [], kwargs: nil, timeout: nil)
            }
        }
        heartbeatWatch = nil
    }
}
