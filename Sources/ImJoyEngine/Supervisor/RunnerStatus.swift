#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A progress report of the Python runtime: a stdout line `@@imjoy-status {json}` (python/imjoy/status.py).
struct RunnerStatus: Decodable, Sendable, Hashable {
    /// `connecting`, `script`, `setup`, `ready` or `error`.
    var phase: String
    /// For errors: the step that failed (`script` or `setup`).
    var stage: String?
    var message: String?
    var traceback: String?
    /// For `ready`: the id of the service the plugin registered.
    var serviceID: String?

    enum CodingKeys: String, CodingKey {
        case phase, stage, message, traceback
        case serviceID = "service_id"
    }

    static let prefix = "@@imjoy-status "

    /// The status a line carries, or `nil` for ordinary output.
    static func parse(_ line: String) -> RunnerStatus? {
        guard line.hasPrefix(prefix) else { return nil }
        return try? JSONDecoder().decode(RunnerStatus.self, from: Data(line.utf8.dropFirst(prefix.utf8.count)))
    }
}
