#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import MessagePack

/// JSON for the protocol's text frames (handshake and control messages).
public enum JSONText {
    /// Serialises a msgpack value as JSON. Binary data becomes base64; non-string map keys are stringified.
    public static func encode(_ value: MessagePackValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    private static func write(_ value: MessagePackValue, to out: inout String) {
        switch value {
        case .nil: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .uint(let u): out += String(u)
        case .float(let f): out += f.isFinite ? "\(Double(f))" : "null"
        case .double(let d): out += d.isFinite ? "\(d)" : "null"
        case .string(let s): writeString(s, to: &out)
        case .binary(let d): writeString(d.base64EncodedString(), to: &out)
        case .ext, .timestamp: out += "null"
        case .raw(let encoded):
            if let value = try? MessagePackDecoder().decode(encoded) { write(value, to: &out) } else { out += "null" }
        case .array(let values):
            out += "["
            for (i, v) in values.enumerated() {
                if i > 0 { out += ", " }
                write(v, to: &out)
            }
            out += "]"
        case .map(let map):
            out += "{"
            for (i, entry) in map.entries.enumerated() {
                if i > 0 { out += ", " }
                let key: String
                switch entry.key {
                case .string(let s): key = s
                default: key = encode(entry.key)
                }
                writeString(key, to: &out)
                out += ": "
                write(entry.value, to: &out)
            }
            out += "}"
        }
    }

    private static func writeString(_ s: String, to out: inout String) {
        out += "\""
        // Fast path: most strings (ids, names, tokens) need no escaping.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out += s
            out += "\""
            return
        }
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

    /// Parses JSON text into a msgpack value (numbers without fraction become integers), or `nil` if invalid.
    public static func value(from text: String) -> MessagePackValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)).value
    }
}

/// Decodes any JSON value, keeping booleans, integers and doubles apart.
private struct JSONValue: Decodable {
    let value: MessagePackValue

    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            var values: [MessagePackValue] = []
            while !array.isAtEnd { values.append(try array.decode(JSONValue.self).value) }
            value = .array(values)
            return
        }
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var map = MessagePackMap()
            for key in object.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                map[key.stringValue] = try object.decode(JSONValue.self, forKey: key).value
            }
            value = .map(map)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            value = .nil
        } else if let b = try? single.decode(Bool.self) {
            value = .bool(b)
        } else if let i = try? single.decode(Int64.self) {
            value = .integer(i)
        } else if let d = try? single.decode(Double.self) {
            value = .double(d)
        } else {
            value = .string(try single.decode(String.self))
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
