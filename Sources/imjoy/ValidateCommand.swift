import ArgumentParser
import ImJoyCore
import ImJoyEngine
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `imjoy validate`: checks plugin files, folders of them, and plugin URLs.
struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check ImJoy plugin files (.imjoy.html, .imjoy.json) and report every problem with its position.",
        discussion: """
            Prints one line per plugin: "ok NAME TYPE VERSION", or "FILE:LINE:COLUMN: MESSAGE".
            A folder means every plugin file under it. URLs (http, https, GitHub and gist pages, owner/repo:Name)
            are fetched first.
            Exit codes: 0 every plugin is valid, 1 at least one is not, 64 invalid usage.
            """)

    @Argument(help: "Plugin files, folders, or URLs.")
    var inputs: [String]

    @Flag(help: "Print the result as JSON (an array, one object per plugin).")
    var json = false

    @Flag(help: "Also print warnings (deprecated names, unknown fields, lenient JSON).")
    var verbose = false

    @Option(help: "Select this configuration tag of each plugin (default: its first tag).")
    var tag: String?

    func run() async throws {
        var reports: [ValidationReport] = []
        for input in inputs {
            for (label, text) in try await Self.sources(input) {
                reports.append(ValidationReport(label: label, source: text, tag: tag))
            }
        }
        if json {
            print("[" + reports.map(\.json).joined(separator: ",\n ") + "]")
        } else {
            for report in reports {
                print(report.line)
                if verbose { for warning in report.warnings { print("\(report.label):\(warning)") } }
            }
        }
        if reports.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }

    /// The plugin texts an input names: a file, every plugin file in a folder, or a fetched URL.
    static func sources(_ input: String) async throws -> [(String, Source)] {
        if input.lowercased().hasPrefix("http://") || input.lowercased().hasPrefix("https://") || input.contains(":") {
            do {
                let (url, text) = try await PluginFetcher().plugin(try PluginURI.parse(input))
                return [(url, .text(text))]
            } catch let error as PluginParseError {
                return [(input, .failure(error.message))]
            } catch {
                return [(input, .failure("\(error)"))]
            }
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: input) else {
            return [(input, .failure("no such file or folder"))]
        }
        if attributes[.type] as? FileAttributeType != .typeDirectory {
            return [(input, Source(reading: input))]
        }
        let files = ((try? FileManager.default.subpathsOfDirectory(atPath: input)) ?? []).filter { path in
            path.hasSuffix(".imjoy.html") || (path.hasSuffix(".imjoy.json") && !path.hasSuffix("manifest.imjoy.json"))
        }
        return files.sorted().map { path in
            let full = input.hasSuffix("/") ? input + path : input + "/" + path
            return (full, Source(reading: full))
        }
    }
}

/// A plugin's text, or why it could not be had.
enum Source {
    case text(String)
    case failure(String)

    init(reading path: String) {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            self = .text(text)
        } else {
            self = .failure("cannot read this file (is it UTF-8 text?)")
        }
    }
}

/// The outcome of checking one plugin.
struct ValidationReport {
    var label: String
    var plugin: Plugin?
    var error: PluginParseError?
    var warnings: [PluginWarning] = []

    init(label: String, source: Source, tag: String?) {
        self.label = label
        guard case .text(let text) = source else {
            if case .failure(let reason) = source { error = PluginParseError(.missingConfig, reason, file: label) }
            return
        }
        do {
            let plugin = try PluginLoader.load(text, file: label, tag: tag)
            self.plugin = plugin
            warnings = plugin.warnings
        } catch {
            self.error = error
        }
    }

    var line: String {
        if let plugin {
            return "ok \(plugin.config.name) \(plugin.config.type.rawValue) \(plugin.config.version)"
        }
        return error?.description ?? "\(label): invalid"
    }

    var json: String {
        var fields = ["\"file\": \(quote(label))", "\"ok\": \(plugin != nil)"]
        if let plugin {
            fields.append("\"name\": \(quote(plugin.config.name))")
            fields.append("\"type\": \(quote(plugin.config.type.rawValue))")
            fields.append("\"version\": \(quote(plugin.config.version))")
        }
        if let error {
            var item = "\"message\": \(quote(error.message))"
            if let location = error.location { item += ", \"line\": \(location.line), \"column\": \(location.column)" }
            fields.append("\"errors\": [{\(item)}]")
        } else {
            fields.append("\"errors\": []")
        }
        let warningItems = warnings.map { warning in
            var item = "\"message\": \(quote(warning.message))"
            if let location = warning.location { item += ", \"line\": \(location.line), \"column\": \(location.column)" }
            return "{\(item)}"
        }
        fields.append("\"warnings\": [\(warningItems.joined(separator: ", "))]")
        return "{" + fields.joined(separator: ", ") + "}"
    }

    func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
