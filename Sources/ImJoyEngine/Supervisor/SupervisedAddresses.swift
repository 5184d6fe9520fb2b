import Synchronization

/// The addresses at which the engine expects its own plugin processes to connect, with their call trackers.
final class SupervisedAddresses: Sendable {
    private let trackers = Mutex<[String: CallTracker]>([:])

    func expect(_ address: String, tracker: CallTracker) {
        trackers.withLock { $0[address] = tracker }
    }

    func forget(_ address: String, tracker: CallTracker) {
        trackers.withLock { all in
            if all[address] === tracker { all.removeValue(forKey: address) }
        }
    }

    func tracker(for address: String) -> CallTracker? {
        trackers.withLock { $0[address] }
    }
}
