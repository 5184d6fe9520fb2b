#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Progress of `imjoy run` on standard error: a bar redrawn in place on a terminal, one line per input otherwise
/// (logs, CI). Standard output keeps only the summary.
struct ProgressLine: Sendable {
    let isTerminal: Bool
    /// Whether a failed input's whole error (its traceback) is printed.
    let verbose: Bool
    let width = 24

    init(isTerminal: Bool = isatty(STDERR_FILENO) == 1, verbose: Bool = false) {
        self.isTerminal = isTerminal
        self.verbose = verbose
    }

    func started(index: Int, of total: Int, name: String) {
        guard isTerminal else { return }
        Self.write("\r\u{1B}[2K" + bar(done: index, of: total) + " \(index + 1)/\(total) \(name)")
    }

    func finished(index: Int, of total: Int, result: BatchOutcome.InputResult) {
        let status = result.ok ? "ok" : "failed: \(result.error ?? "")"
        let line = "[\(index + 1)/\(total)] \(result.input): \(status) (\(String(format: "%.2f", result.seconds)) s)"
        let detail = verbose && !result.ok ? (result.detail ?? "") + "\n" : ""
        if isTerminal {
            Self.write(
                "\r\u{1B}[2K" + (result.ok ? "" : line + "\n" + detail) + bar(done: index + 1, of: total)
                    + " \(index + 1)/\(total)")
        } else {
            Self.write(line + "\n" + detail)
        }
    }

    func done() {
        if isTerminal { Self.write("\n") }
    }

    private func bar(done: Int, of total: Int) -> String {
        let filled = total == 0 ? width : done * width / total
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    /// A line about what the run is doing (starting plugins), on standard error.
    static func note(_ text: String) {
        write(text + "\n")
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
