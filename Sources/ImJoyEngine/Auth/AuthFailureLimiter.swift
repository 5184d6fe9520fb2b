#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Counts failed authentications per remote host and refuses a host that failed too often within a minute
/// (token guessing), until the minute is over.
final class AuthFailureLimiter: Sendable {
    private struct Window {
        var start: ContinuousClock.Instant
        var failures: Int
    }

    private let limit: Int
    private let window: Duration
    private let windows = Mutex<[String: Window]>([:])

    init(limit: Int, window: Duration = .seconds(60)) {
        self.limit = limit
        self.window = window
    }

    /// Seconds `host` must still wait, or `nil` when it may try.
    func waitTime(for host: String) -> Int? {
        let now = ContinuousClock.now
        return windows.withLock { windows in
            guard let entry = windows[host], entry.failures >= limit else { return nil }
            let left = entry.start + window - now
            guard left > .zero else {
                windows[host] = nil
                return nil
            }
            return max(1, Int(left.components.seconds))
        }
    }

    /// Notes a failed authentication from `host`.
    func recordFailure(from host: String) {
        let now = ContinuousClock.now
        windows.withLock { windows in
            if windows.count > 10_000 {
                windows = windows.filter { now - $0.value.start < window }
            }
            if var entry = windows[host], now - entry.start < window {
                entry.failures += 1
                windows[host] = entry
            } else {
                windows[host] = Window(start: now, failures: 1)
            }
        }
    }
}
