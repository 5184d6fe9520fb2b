import Synchronization

/// The live connections by address and by workspace. Lock-protected, because every routed frame looks
/// up its target here from the sender's receive loop.
final class ConnectionTable: Sendable {
    private struct State {
        var byAddress: [String: ClientConnection] = [:]
        var byWorkspace: [String: Set<String>] = [:]
        var nextSerial: UInt64 = 1
    }

    private let state = Mutex(State())

    func nextSerial() -> UInt64 {
        state.withLock { s in
            defer { s.nextSerial += 1 }
            return s.nextSerial
        }
    }

    func connection(at address: String) -> ClientConnection? {
        state.withLock { $0.byAddress[address] }
    }

    /// Puts `connection` at its address if that address is still held by `expected` (or free when `nil`):
    /// two handshakes for one address cannot both win. Returns whether it was inserted.
    func insert(_ connection: ClientConnection, replacing expected: ClientConnection?) -> Bool {
        state.withLock { s in
            guard s.byAddress[connection.address] === expected else { return false }
            s.byAddress[connection.address] = connection
            s.byWorkspace[connection.workspace, default: []].insert(connection.address)
            return true
        }
    }

    /// Removes `connection` if it is still the one at its address (not superseded by a reconnection).
    /// Returns whether it was removed, and whether its workspace has no connection left.
    func remove(_ connection: ClientConnection) -> (removed: Bool, workspaceEmpty: Bool) {
        state.withLock { s in
            guard s.byAddress[connection.address] === connection else {
                return (false, s.byWorkspace[connection.workspace]?.isEmpty ?? true)
            }
            s.byAddress.removeValue(forKey: connection.address)
            s.byWorkspace[connection.workspace]?.remove(connection.address)
            let empty = s.byWorkspace[connection.workspace]?.isEmpty ?? true
            if empty { s.byWorkspace.removeValue(forKey: connection.workspace) }
            return (true, empty)
        }
    }

    func connections(in workspace: String) -> [ClientConnection] {
        state.withLock { s in
            (s.byWorkspace[workspace] ?? []).compactMap { s.byAddress[$0] }
        }
    }

    var all: [ClientConnection] {
        state.withLock { Array($0.byAddress.values) }
    }

    var count: Int { state.withLock { $0.byAddress.count } }
}
