import Foundation
import ImJoyRPC
import MessagePack
import SystemPackage

/// What `imjoy run` did with every input.
struct BatchOutcome: Sendable {
    struct InputResult: Sendable {
        var input: String
        var ok: Bool
        /// Time through the steps (the calls to the plugins).
        var seconds: Double
        /// The numbers and texts of the result, by key, in the result's order.
        var values: [(String, String)] = []
        var files: [String] = []
        /// Time writing this input's result files (not in `seconds`).
        var writeSeconds: Double = 0
        var error: String?
        /// The whole error (a traceback), printed with --verbose.
        var detail: String?
    }

    var results: [InputResult]

    var failures: Int { results.count(where: { !$0.ok }) }

    /// The columns beyond input, status and seconds: every scalar key, in first-seen order.
    var valueColumns: [String] {
        var seen: [String] = []
        for result in results {
            for (key, _) in result.values where !seen.contains(key) { seen.append(key) }
        }
        return seen
    }

    /// The summary as rows of cells (header first). The file's version (`forFile`) has seconds to 0.1 ms and the
    /// time spent writing each input's files; the terminal's rounds to 10 ms.
    func rows(forFile: Bool = false) -> [[String]] {
        let columns = valueColumns
        let timing = forFile ? ["seconds", "write_seconds"] : ["seconds"]
        var rows = [["input", "status"] + timing + columns + ["error"]]
        for result in results {
            let values = Dictionary(result.values, uniquingKeysWith: { first, _ in first })
            let times = forFile
                ? [String(format: "%.4f", result.seconds), String(format: "%.4f", result.writeSeconds)]
                : [String(format: "%.2f", result.seconds)]
            rows.append(
                [result.input, result.ok ? "ok" : "failed"] + times + columns.map { values[$0] ?? "" } + [result.error ?? ""])
        }
        return rows
    }

    /// The summary as a table for the terminal.
    func table() -> String {
        let all = rows()
        let header = all[0].map { $0.uppercased() }
        return TextTable.render(header: header, rows: Array(all.dropFirst()))
            + "\n\(results.count - failures) of \(results.count) ok"
    }
}

/// Writes results: arrays as `.npy`, lists of rows (or of numbers) as `.csv`, and the run's `summary.csv`.
enum BatchOutput {
    /// Writes the arrays and tables of `result`; returns the names of the files written.
    static func write(_ result: RPCValue, stem: String, to folder: URL) throws -> [String] {
        guard case .object(let object) = result else { return [] }
        let folder = FilePath(folder.path)
        var written: [String] = []
        for (key, value) in object.entries {
            let base = "\(stem)_\(safe(key))"
            switch value {
            case .ndarray(let array):
                guard let data = array.npyData else { continue }
                try save(data, folder, base + ".npy")
                written.append(base + ".npy")
            case .array(let items) where !items.isEmpty && items.allSatisfy({ $0.objectValue != nil }):
                try save(Data(csv(items.compactMap(\.objectValue)).utf8), folder, base + ".csv")
                written.append(base + ".csv")
            case .array(let items) where !items.isEmpty && items.allSatisfy({ scalar($0) != nil }):
                // A list of numbers or texts: one column named after the key.
                let rows = items.map { RPCObject([(key, $0)]) }
                try save(Data(csv(rows).utf8), folder, base + ".csv")
                written.append(base + ".csv")
            default:
                continue
            }
        }
        return written
    }

    /// Writes `summary.csv`: one row per input.
    static func writeSummary(_ outcome: BatchOutcome, to folder: URL) throws {
        let text = outcome.rows(forFile: true).map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        try save(Data(text.utf8), FilePath(folder.path), "summary.csv")
    }

    /// The numbers, texts and booleans at the top of a result (what a summary row shows).
    static func scalars(of result: RPCValue) -> [(String, String)] {
        guard case .object(let object) = result else {
            return scalar(result).map { [("result", $0)] } ?? []
        }
        return object.entries.compactMap { key, value in scalar(value).map { (key, $0) } }
    }

    private static func scalar(_ value: RPCValue) -> String? {
        switch value {
        case .int(let v): return String(v)
        case .double(let v): return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
        case .string(let v): return v
        case .bool(let v): return v ? "true" : "false"
        default: return nil
        }
    }

    /// Rows as CSV: the union of their keys (first-seen order) as the header.
    static func csv(_ rows: [RPCObject]) -> String {
        var columns: [String] = []
        for row in rows {
            for (key, _) in row.entries where !columns.contains(key) { columns.append(key) }
        }
        var lines = [columns.map(csvField).joined(separator: ",")]
        for row in rows {
            lines.append(columns.map { csvField(row[$0].flatMap(scalar) ?? "") }.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func safe(_ key: String) -> String {
        String(key.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    /// Writes `data` under a temporary name, then renames it: a reader never sees half a file, and there is no
    /// `fsync` per file (Foundation's `Data.write(to:)` syncs every file it writes, atomic or not: three per
    /// image, several ms each on a real disk).
    private static func save(_ data: Data, _ folder: FilePath, _ name: String) throws {
        // FilePath, not URL: building URLs was 3 % of the CLI's CPU in a batch of small images.
        let target = folder.appending(name)
        let partial = folder.appending(".\(name).partial")
        do {
            let file = try FileDescriptor.open(
                partial, .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead, .otherRead])
            try file.closeAfter { _ = try file.writeAll(data) }
            guard rename(partial.string, target.string) == 0 else { throw Errno(rawValue: errno) }
        } catch {
            unlink(partial.string)
            throw CommandFailure("cannot write \(target.string): \(error)")
        }
    }
}
