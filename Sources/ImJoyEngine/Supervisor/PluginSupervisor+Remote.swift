#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyCore
public import ImJoyRPC

extension PluginInstance {
    /// The row `status()` and `list()` show for this instance.
    var statusRow: RPCValue {
        let snapshot = current
        var object: RPCObject = [
            "name": .string(snapshot.plugin.config.name), "state": .string(snapshot.state.name),
            "workspace": .string(workspace), "client_id": .string(clientID),
            "service_id": .string("\(address):\(serviceID)"), "owner": .string(snapshot.owner.address),
            "pid": snapshot.state.isActive ? snapshot.process.map { .int(Int64($0.pid)) } ?? .null : .null,
            "started_at": snapshot.startedAt.map { .double($0.timeIntervalSince1970) } ?? .null,
            "start_seconds": snapshot.startSeconds.map { .double($0) } ?? .null,
            "last_exit": snapshot.lastExit.map { .string($0.description) } ?? .null,
        ]
        switch snapshot.state {
        case .starting(let phase): object["phase"] = .string(phase.rawValue)
        case .crashed(let reason), .failed(let reason): object["error"] = .string(reason)
        default: break
        }
        if let environment = snapshot.environment {
            object["environment"] = .object([
                "key": .string(environment.key), "path": .string(environment.directory.path),
                "reused": .bool(environment.reused), "build_seconds": .double(environment.buildSeconds),
                "installer": .string(environment.installer),
            ])
        }
        object["active"] = .bool(snapshot.state.isActive)
        object["allow_detach"] = .bool(snapshot.plugin.config.flags.contains("allow-detach"))
        return .object(object)
    }

    /// Log rows `[{index, time, source, text}]` from `since`.
    func logRows(since: Int, limit: Int) -> RPCValue {
        .array(
            log.entries(since: since, limit: limit).map { entry in
                .object([
                    "index": .int(Int64(entry.index)), "time": .double(entry.time.timeIntervalSince1970),
                    "source": .string(entry.source.rawValue), "text": .string(entry.text),
                ])
            })
    }
}

/// What a worker's `plugin-host` service reports about the plugins it runs (by client id, as the engine knows them).
extension PluginSupervisor {
    /// Status rows of every instance (`active` tells running ones from stopped ones).
    public func statusRows() -> [RPCValue] {
        instancesByClient().map(\.statusRow)
    }

    /// The status row of the instance with `clientID`.
    public func statusRow(clientID: String) throws -> RPCValue {
        try instance(clientID: clientID).statusRow
    }

    /// Log rows of the instance with `clientID`.
    public func logRows(clientID: String, since: Int, limit: Int) throws -> RPCValue {
        try instance(clientID: clientID).logRows(since: since, limit: limit)
    }

    /// Stops the instance with `clientID` (nothing when it does not run).
    public func stop(clientID: String) async throws {
        let found = try instance(clientID: clientID)
        try await stop(name: found.name, caller: found.current.owner, ifRunning: true)
    }

    private func instance(clientID: String) throws -> PluginInstance {
        guard let found = instancesByClient().first(where: { $0.clientID == clientID }) else {
            throw PluginEngineError("No plugin with client id \(clientID) runs on this host")
        }
        return found
    }
}
