/// A value of a plugin's `<config>` (from JSON or YAML), with where it was written.
public struct ConfigNode: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([ConfigNode])
        case object([Entry])
    }

    /// A member of an object, in source order.
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: ConfigNode

        public init(key: String, keyLocation: SourceLocation, value: ConfigNode) {
            self.key = key
            self.keyLocation = keyLocation
            self.value = value
        }
    }

    public var kind: Kind
    public var location: SourceLocation

    public init(_ kind: Kind, at location: SourceLocation = .start) {
        self.kind = kind
        self.location = location
    }

    public var stringValue: String? {
        if case .string(let s) = kind { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = kind { return b }
        return nil
    }

    public var numberValue: Double? {
        if case .number(let n) = kind { return n }
        return nil
    }

    public var arrayValue: [ConfigNode]? {
        if case .array(let a) = kind { return a }
        return nil
    }

    public var entries: [Entry]? {
        if case .object(let e) = kind { return e }
        return nil
    }

    public var isNull: Bool {
        if case .null = kind { return true }
        return false
    }

    /// The member `key` of an object.
    public subscript(key: String) -> ConfigNode? {
        entries?.last { $0.key == key }?.value
    }

    /// A short name of the kind, for messages ("a string", "an object" …).
    public var kindDescription: String {
        switch kind {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// Compact JSON text of the value.
    public var json: String {
        var out = ""
        writeJSON(to: &out)
        return out
    }

    private func writeJSON(to out: inout String) {
        switch kind {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n):
            if n.rounded() == n, abs(n) < 1e15 { out += String(Int64(n)) } else { out += "\(n)" }
        case .string(let s): ConfigNode.quote(s, into: &out)
        case .array(let values):
            out += "["
            for (i, v) in values.enumerated() {
                if i > 0 { out += "," }
                v.writeJSON(to: &out)
            }
            out += "]"
        case .object(let entries):
            out += "{"
            for (i, e) in entries.enumerated() {
                if i > 0 { out += "," }
                ConfigNode.quote(e.key, into: &out)
                out += ":"
                e.value.writeJSON(to: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension ConfigNode {
    /// Parses JSON text (comments and trailing commas allowed) into a tree with positions.
    public static func parseJSON(_ text: String, file: String? = nil) throws(PluginParseError) -> ConfigNode {
        let block = PluginBlock(
            type: "json", attributes: ["lang": "json"], content: text, location: .start, contentLocation: .start,
            removedIndent: 0)
        do {
            return try ConfigText.parse(block, file: file).0
        } catch {
            var e = error
            e.message = e.message.replacingFirst("invalid JSON in <config>", with: "invalid JSON")
            throw e
        }
    }
}
