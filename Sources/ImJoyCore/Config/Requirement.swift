/// One normalised entry of a plugin's `requirements` (IMJOY-PLUGINS.md §1.6).
public enum Requirement: Sendable, Hashable, CustomStringConvertible {
    /// A Python package installed with pip (a name with version specifier, or a VCS/URL spec).
    case pip(String)
    /// A package installed with conda.
    case conda(String)
    /// A git repository cloned into the plugin's work directory.
    case repository(url: String, directory: String?)
    /// A shell command run in the plugin's work directory.
    case command(String)
    /// A JavaScript file loaded before the plugin's scripts.
    case script(String)
    /// A CSS file added to the plugin's document.
    case stylesheet(String)
    /// An ES module imported before the plugin's scripts.
    case module(String)
    /// A URL only added to the offline cache.
    case cache(String)
    /// A Python package installed into Pyodide with micropip (web-python).
    case pythonPackage(String)

    public var description: String {
        switch self {
        case .pip(let s): return "pip:\(s)"
        case .conda(let s): return "conda:\(s)"
        case .repository(let url, let dir): return "repo:\(url)" + (dir.map { " \($0)" } ?? "")
        case .command(let s): return "cmd:\(s)"
        case .script(let s): return "js:\(s)"
        case .stylesheet(let s): return "css:\(s)"
        case .module(let s): return "mjs:\(s)"
        case .cache(let s): return "cache:\(s)"
        case .pythonPackage(let s): return "package:\(s)"
        }
    }
}

/// One normalised entry of `env`: a shell command, or a typed spec object (`binder`, `gputil`, `variable`).
public enum EnvironmentItem: Sendable, Hashable {
    case command(String)
    case spec(type: String, options: ConfigNode)
}

/// Turns raw `requirements` items into ``Requirement``s for a plugin type, as ImJoy's backends read them.
enum RequirementParser {
    static func parse(
        _ items: [ConfigNode], for type: PluginType, file: String?, warnings: inout [PluginWarning]
    ) throws(PluginParseError) -> [Requirement] {
        var result: [Requirement] = []
        for item in items {
            guard let text = item.stringValue?.trimmingSpaces, !text.isEmpty else {
                if !item.isNull {
                    warnings.append(PluginWarning("requirement \(item.json) is not a string; ignored", at: item.location))
                }
                continue
            }
            switch type {
            case .nativePython, .jupyterNotebook:
                result += try python(text, at: item.location, file: file)
            case .webPython, .webPythonWindow:
                result += web(text, at: item.location, pythonPackages: true, warnings: &warnings)
            case .webWorker:
                let parsed = web(text, at: item.location, pythonPackages: false, warnings: &warnings)
                if parsed.contains(where: { if case .stylesheet = $0 { return true } else { return false } }) {
                    throw PluginParseError(
                        .unsupportedRequirement,
                        "CSS requirement '\(text)' cannot be loaded in a web-worker plugin (no document); use type \"window\" or \"iframe\"",
                        at: item.location, file: file)
                }
                result += parsed
            default:
                result += web(text, at: item.location, pythonPackages: false, warnings: &warnings)
            }
        }
        return result
    }

    /// Engine (pip/conda/repo/cmd) requirements.
    static func python(_ text: String, at location: SourceLocation, file: String?) throws(PluginParseError)
        -> [Requirement]
    {
        guard let colon = text.firstIndex(of: ":") else { return words(text).map(Requirement.pip) }
        let prefix = String(text[..<colon]).lowercased()
        let rest = String(text[text.index(after: colon)...]).trimmingSpaces
        switch prefix {
        case "pip": return words(rest).map(Requirement.pip)
        case "conda": return words(rest).map(Requirement.conda)
        case "cmd": return [.command(rest)]
        case "repo":
            let parts = words(rest)
            guard let url = parts.first else {
                throw PluginParseError(.unsupportedRequirement, "'repo:' needs a repository URL", at: location, file: file)
            }
            return [.repository(url: url, directory: parts.count > 1 ? parts[1] : nil)]
        default:
            if prefix.contains("+") || prefix.contains("http") || !prefix.allSatisfy({ $0.isLetter }) {
                return [.pip(text)]
            }
            throw PluginParseError(
                .unsupportedRequirement,
                "Unsupported requirement type '\(prefix):' in '\(text)'; use pip:, conda:, repo: or cmd:, or a bare package name",
                at: location, file: file)
        }
    }

    /// Browser (script/style/module/cache) requirements; web-python also installs Python packages.
    static func web(_ text: String, at location: SourceLocation, pythonPackages: Bool, warnings: inout [PluginWarning])
        -> [Requirement]
    {
        let lower = text.lowercased()
        func strip(_ prefix: String) -> String { String(text.dropFirst(prefix.count)).trimmingSpaces }
        if lower.hasPrefix("css:") { return [.stylesheet(strip("css:"))] }
        if lower.hasPrefix("mjs:") { return [.module(strip("mjs:"))] }
        if lower.hasPrefix("js:") { return [.script(strip("js:"))] }
        if lower.hasPrefix("cache:") { return [.cache(strip("cache:"))] }
        if pythonPackages, lower.hasPrefix("package:") { return words(strip("package:")).map(Requirement.pythonPackage) }
        let path = lower.split(separator: "?").first.map(String.init) ?? lower
        if path.hasSuffix(".css") { return [.stylesheet(text)] }
        if path.hasSuffix(".mjs") { return [.module(text)] }
        if path.hasSuffix(".js") { return [.script(text)] }
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            if pythonPackages {
                warnings.append(PluginWarning("URL requirement '\(text)' is not installed in web-python; use package:", at: location))
                return []
            }
            return [.script(text)]
        }
        if pythonPackages { return words(text).map(Requirement.pythonPackage) }
        warnings.append(PluginWarning("requirement '\(text)' is not a URL and is ignored for this plugin type", at: location))
        return []
    }

    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
