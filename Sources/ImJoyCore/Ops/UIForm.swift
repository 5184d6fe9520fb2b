/// A parsed `ui` string (IMJOY-PLUGINS.md §3.2): rich text with widget specs in braces, e.g.
/// `"threshold {id:'th', type:'number', min:0, placeholder:5} px"`.
///
/// Widget specs are read as relaxed JSON: bare keys, single- or double-quoted strings. Unlike ImJoy's
/// regex-based conversion, quoted values may contain `word:` (URLs) and escaped quotes.
public struct UIForm: Sendable, Hashable {
    public enum Segment: Sendable, Hashable {
        case text(String)
        case widget(UIWidget)
    }

    public var segments: [Segment]

    public init(segments: [Segment]) {
        self.segments = segments
    }

    /// The widgets, in order.
    public var widgets: [UIWidget] {
        segments.compactMap { if case .widget(let w) = $0 { return w } else { return nil } }
    }

    /// The form values a run gets when nobody touched the form: each widget's id with its default.
    public var defaultValues: [String: ConfigNode] {
        var values: [String: ConfigNode] = [:]
        for widget in widgets {
            if let id = widget.id, let value = widget.defaultValue { values[id] = value }
        }
        return values
    }

    /// Parses a normalised `ui` string.
    /// - Throws: ``PluginParseError`` (`.invalidUI`) with the column of the problem in the string (line 1).
    public static func parse(_ ui: String) throws(PluginParseError) -> UIForm {
        let chars = Array(ui.unicodeScalars)
        var segments: [Segment] = []
        var text = String.UnicodeScalarView()
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "}" {
                throw PluginParseError(.invalidUI, "'}' at column \(i + 1) closes no widget spec", at: .init(line: 1, column: i + 1))
            }
            guard c == "{" else {
                text.append(c)
                i += 1
                continue
            }
            let end = try matchingBrace(chars, from: i)
            if !text.isEmpty {
                segments.append(.text(String(text)))
                text = String.UnicodeScalarView()
            }
            var spec = String.UnicodeScalarView()
            spec.append(contentsOf: chars[i...end])
            segments.append(.widget(try UIWidget(spec: String(spec), column: i + 1)))
            i = end + 1
        }
        if !text.isEmpty { segments.append(.text(String(text))) }
        return UIForm(segments: segments)
    }

    /// The index of the `}` that closes the `{` at `start` (nested braces and quoted strings respected).
    static func matchingBrace(_ chars: [Unicode.Scalar], from start: Int) throws(PluginParseError) -> Int {
        var depth = 0
        var quote: Unicode.Scalar?
        var i = start
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                if c == "\\" {
                    i += 2
                    continue
                }
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == "{" {
                depth += 1
            } else if c == "}" {
                depth -= 1
                if depth == 0 { return i }
            }
            i += 1
        }
        throw PluginParseError(
            .invalidUI, "unbalanced '{' at column \(start + 1): close the widget spec with '}'",
            at: .init(line: 1, column: start + 1))
    }
}

/// One widget of a `ui` form.
public struct UIWidget: Sendable, Hashable {
    /// The widget kinds ImJoy's Joy library knows (an unknown kind makes the whole form fail there).
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case number, string, choose, color, button, save, ops, variableName
        case comment = "instructions/comment"
        case repeatOps = "instructions/repeat"
        case mathSet = "math/set"
        case mathOperation = "math/operation"
        case mathIf = "math/if"
        case randomIf = "random/if"
        case randomSet = "random/set"
    }

    /// The key of its value in `ctx.config` (`dataID` if given, else `id`).
    public var id: String?
    public var kind: Kind
    /// The spec as written (all options).
    public var options: ConfigNode
    /// The value before the user changes anything: `placeholder`, else the kind's default.
    public var defaultValue: ConfigNode?
    /// Column of the spec in the `ui` string.
    public var column: Int

    init(spec: String, column: Int) throws(PluginParseError) {
        let node: ConfigNode
        switch RelaxedJSON.parse(spec) {
        case .success(let parsed): node = parsed
        case .failure(let failure):
            throw PluginParseError(
                .invalidUI, "widget spec at column \(column) is not valid: \(failure.message)",
                at: .init(line: 1, column: column + failure.offset))
        }
        guard node.entries != nil else {
            throw PluginParseError(.invalidUI, "widget spec at column \(column) must be an object", at: .init(line: 1, column: column))
        }
        guard let typeName = node["type"]?.stringValue else {
            throw PluginParseError(
                .invalidUI, "widget spec at column \(column) has no type; use one of "
                    + Kind.allCases.map(\.rawValue).joined(separator: ", "), at: .init(line: 1, column: column))
        }
        guard let kind = Kind(rawValue: typeName) else {
            throw PluginParseError(
                .invalidUI, "unknown widget type '\(typeName)' at column \(column); use one of "
                    + Kind.allCases.map(\.rawValue).joined(separator: ", "), at: .init(line: 1, column: column))
        }
        self.kind = kind
        self.options = node
        self.column = column
        self.id = node["dataID"]?.stringValue ?? node["id"]?.stringValue
        if let placeholder = node["placeholder"] {
            defaultValue = placeholder
        } else {
            switch kind {
            case .number: defaultValue = ConfigNode(.number(3))
            case .string: defaultValue = ConfigNode(.string("???"))
            case .choose:
                let first = node["options"]?.arrayValue?.first
                defaultValue = first.map { $0["value"] ?? $0 }
            default: defaultValue = nil
            }
        }
        if kind != .save, kind != .comment, kind != .button, id == nil, kind != .repeatOps, kind != .ops {
            throw PluginParseError(
                .invalidUI, "widget '\(typeName)' at column \(column) needs an id (its value goes to ctx.config[id])",
                at: .init(line: 1, column: column))
        }
    }
}

/// Relaxed JSON for widget specs: bare keys, single- or double-quoted strings, trailing commas.
enum RelaxedJSON {
    struct Failure: Error {
        var message: String
        /// 0-based offset in the parsed text.
        var offset: Int
    }

    static func parse(_ text: String) -> Result<ConfigNode, Failure> {
        var parser = Parser(chars: Array(text.unicodeScalars))
        do {
            parser.skipSpace()
            let value = try parser.value(depth: 0)
            parser.skipSpace()
            if parser.i < parser.chars.count { throw Failure(message: "unexpected text after the spec", offset: parser.i) }
            return .success(value)
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(Failure(message: "\(error)", offset: 0))
        }
    }

    struct Parser {
        let chars: [Unicode.Scalar]
        var i = 0

        mutating func skipSpace() {
            while i < chars.count, chars[i].properties.isWhitespace { i += 1 }
        }

        func fail(_ message: String) -> Failure { Failure(message: message, offset: i) }

        mutating func value(depth: Int) throws -> ConfigNode {
            guard depth < 64 else { throw fail("nested too deeply") }
            guard i < chars.count else { throw fail("a value is missing") }
            let column = SourceLocation(line: 1, column: i + 1)
            switch chars[i] {
            case "{":
                i += 1
                var entries: [ConfigNode.Entry] = []
                while true {
                    skipSpace()
                    guard i < chars.count else { throw fail("'}' is missing") }
                    if chars[i] == "}" {
                        i += 1
                        return ConfigNode(.object(entries), at: column)
                    }
                    let keyLocation = SourceLocation(line: 1, column: i + 1)
                    let key: String
                    if chars[i] == "'" || chars[i] == "\"" {
                        key = try string()
                    } else {
                        var word = String.UnicodeScalarView()
                        while i < chars.count, chars[i].properties.isAlphabetic || chars[i].properties.numericType != nil
                            || chars[i] == "_" || chars[i] == "$"
                        {
                            word.append(chars[i])
                            i += 1
                        }
                        guard !word.isEmpty else { throw fail("expected a key") }
                        key = String(word)
                    }
                    skipSpace()
                    guard i < chars.count, chars[i] == ":" else { throw fail("expected ':' after '\(key)'") }
                    i += 1
                    skipSpace()
                    entries.append(.init(key: key, keyLocation: keyLocation, value: try value(depth: depth + 1)))
                    skipSpace()
                    if i < chars.count, chars[i] == "," { i += 1 } else if i < chars.count, chars[i] != "}" {
                        throw fail("expected ',' or '}'")
                    }
                }
            case "[":
                i += 1
                var values: [ConfigNode] = []
                while true {
                    skipSpace()
                    guard i < chars.count else { throw fail("']' is missing") }
                    if chars[i] == "]" {
                        i += 1
                        return ConfigNode(.array(values), at: column)
                    }
                    values.append(try value(depth: depth + 1))
                    skipSpace()
                    if i < chars.count, chars[i] == "," { i += 1 } else if i < chars.count, chars[i] != "]" {
                        throw fail("expected ',' or ']'")
                    }
                }
            case "'", "\"":
                return ConfigNode(.string(try string()), at: column)
            default:
                var word = String.UnicodeScalarView()
                while i < chars.count, !",}] \t\n".unicodeScalars.contains(chars[i]) {
                    word.append(chars[i])
                    i += 1
                }
                let token = String(word)
                switch token {
                case "true": return ConfigNode(.bool(true), at: column)
                case "false": return ConfigNode(.bool(false), at: column)
                case "null": return ConfigNode(.null, at: column)
                default:
                    guard let number = Double(token) else {
                        throw Failure(message: "'\(token)' is not a value; quote strings", offset: column.column - 1)
                    }
                    return ConfigNode(.number(number), at: column)
                }
            }
        }

        mutating func string() throws -> String {
            let quote = chars[i]
            let start = i
            i += 1
            var out = String.UnicodeScalarView()
            while i < chars.count {
                let c = chars[i]
                if c == "\\", i + 1 < chars.count {
                    out.append(chars[i + 1])
                    i += 2
                    continue
                }
                if c == quote {
                    i += 1
                    return String(out)
                }
                out.append(c)
                i += 1
            }
            throw Failure(message: "unterminated string", offset: start)
        }
    }
}
