/// Why a plugin file, manifest, `ui` string or workflow was rejected, and where.
///
/// `description` reads `file:line:column: message`, as compilers print errors.
public struct PluginParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it is.
    public enum Code: String, Sendable, Hashable {
        case unclosedBlock
        case missingConfig
        case invalidJSON
        case invalidYAML
        case unsupportedConfigLanguage
        case invalidField
        case missingField
        case unknownType
        case tagsRequired
        case unsupportedRequirement
        case invalidUI
        case invalidManifest
        case invalidURI
        case invalidWorkflow
    }

    public var code: Code
    public var message: String
    /// Where the problem is, when known.
    public var location: SourceLocation?
    /// The file or URL it is in, when known.
    public var file: String?

    public init(_ code: Code, _ message: String, at location: SourceLocation? = nil, file: String? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.file = file
    }

    public var description: String {
        var prefix = file ?? "<plugin>"
        if let location { prefix += ":\(location.line):\(location.column)" }
        return "\(prefix): \(message)"
    }
}

/// A problem that does not stop a plugin from loading (deprecated names, unknown fields, lenient JSON).
public struct PluginWarning: Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var location: SourceLocation?

    public init(_ message: String, at location: SourceLocation? = nil) {
        self.message = message
        self.location = location
    }

    public var description: String {
        location.map { "\($0.line):\($0.column): warning: \(message)" } ?? "warning: \(message)"
    }
}
