import ArgumentParser
import Foundation
import ImJoyCore

/// What `imjoy run` was asked to do, checked before any engine starts: the steps, the input files, the settings.
struct BatchPlan: Sendable {
    /// A setting from `--set`: for every step (`step == nil`) or for one (1-based).
    struct Setting: Sendable {
        var step: Int?
        var key: String
        var value: ConfigNode
    }

    /// Shown in messages: the workflow's or the plugin's name.
    var title: String
    var steps: [Workflow.Step]
    /// A plugin file to install before the run (TARGET was a `.imjoy.html`).
    var pluginFile: String?
    /// Whether missing plugins may be installed from the engine's repository (workflows).
    var installsMissing: Bool
    var inputs: [URL]
    var settings: [Setting]
    var output: URL?

    static func make(target: String, op: String?, inputs: [String], settings: [String], output: String?) throws -> BatchPlan {
        let files = try expand(inputs)
        let parsedSettings = try settings.map(parseSetting)
        let outputURL = output.map { URL(fileURLWithPath: $0).standardizedFileURL }
        let lower = target.lowercased()
        let looksLikeFile = lower.hasSuffix(".json") || lower.hasSuffix(".html") || target.contains("/")
        guard looksLikeFile else {
            return BatchPlan(
                title: target, steps: [Workflow.Step(plugin: target, op: op)], pluginFile: nil, installsMissing: false,
                inputs: files, settings: parsedSettings, output: outputURL)
        }
        let path = URL(fileURLWithPath: target).standardizedFileURL.path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandFailure("no workflow or plugin file at \(target)", exitCode: ExitCodes.missingInput)
        }
        // A .json file is a workflow when it has steps; otherwise it is a plugin (ImJoy's .imjoy.json plugin files).
        if lower.hasSuffix(".json"),
            text.contains("\"imjoy-workflow\"") || (try? ConfigNode.parseJSON(text))?["steps"]?.arrayValue != nil
        {
            if op != nil {
                throw ValidationError("--op cannot be used with a workflow: its steps name their ops")
            }
            let workflow: Workflow
            do {
                workflow = try Workflow.parse(text, file: target)
            } catch {
                throw CommandFailure("\(error)")
            }
            if let step = parsedSettings.compactMap(\.step).first(where: { $0 < 1 || $0 > workflow.steps.count }) {
                throw ValidationError("--set \(step).…: the workflow has steps 1 to \(workflow.steps.count)")
            }
            return BatchPlan(
                title: workflow.name, steps: workflow.steps, pluginFile: nil, installsMissing: true, inputs: files,
                settings: parsedSettings, output: outputURL)
        }
        let plugin: Plugin
        do {
            plugin = try PluginLoader.load(text, file: target)
        } catch {
            throw CommandFailure("\(error)")
        }
        return BatchPlan(
            title: plugin.config.name, steps: [Workflow.Step(plugin: plugin.config.name, op: op)], pluginFile: path,
            installsMissing: false, inputs: files, settings: parsedSettings, output: outputURL)
    }

    /// Files as given, folders as the files in them (sorted, hidden ones left out).
    static func expand(_ inputs: [String]) throws -> [URL] {
        var files: [URL] = []
        for input in inputs {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) else {
                throw CommandFailure("no input file or folder at \(input)", exitCode: ExitCodes.missingInput)
            }
            let url = URL(fileURLWithPath: input).standardizedFileURL
            guard isFolder.boolValue else {
                files.append(url)
                continue
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { !$0.hasPrefix(".") }.sorted()
            for name in names {
                var childIsFolder: ObjCBool = false
                let child = url.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: child.path, isDirectory: &childIsFolder), !childIsFolder.boolValue {
                    files.append(child)
                }
            }
        }
        return files
    }

    /// `KEY=VALUE` or `STEP.KEY=VALUE`; the value is JSON when it parses as JSON, else text.
    static func parseSetting(_ text: String) throws -> Setting {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ValidationError("--set \(text) is not KEY=VALUE")
        }
        var key = String(text[..<equals])
        let raw = String(text[text.index(after: equals)...])
        var step: Int?
        if let dot = key.firstIndex(of: "."), let number = Int(key[..<dot]) {
            step = number
            key = String(key[key.index(after: dot)...])
        }
        let value = (try? ConfigNode.parseJSON(raw)) ?? ConfigNode(.string(raw))
        return Setting(step: step, key: key, value: value)
    }
}

/// The exit codes of `imjoy run` beyond 0, 1 and 64 (sysexits.h where one fits).
enum ExitCodes {
    static let someInputsFailed: Int32 = 2
    static let missingInput: Int32 = 66
    static let engineUnavailable: Int32 = 69
}
