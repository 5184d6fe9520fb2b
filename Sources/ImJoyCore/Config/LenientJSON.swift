/// A JSON parser that keeps the position of every value and accepts what hand-written plugin configs contain:
/// `//` and `/* */` comments and trailing commas (each reported as a warning, since `JSON.parse` refuses them).
/// Positions are relative to the parsed text (1-based line and column).
struct LenientJSON {
    struct Failure: Error {
        var message: String
        var line: Int
        var column: Int
    }

    private let scalars: [Unicode.Scalar]
    private var i = 0
    private var line = 1
    private var column = 1
    private(set) var warnings: [(String, Int, Int)] = []
    private var depth = 0

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    /// Parses one JSON value filling the whole text.
    static func parse(_ text: String) -> Result<(ConfigNode, [(String, Int, Int)]), Failure> {
        var parser = LenientJSON(text)
        do {
            try parser.skipSpace()
            let value = try parser.value()
            try parser.skipSpace()
            if parser.i < parser.scalars.count {
                throw parser.failure("unexpected '\(parser.scalars[parser.i])' after the end of the JSON value")
            }
            return .success((value, parser.warnings))
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(Failure(message: "\(error)", line: 1, column: 1))
        }
    }

    private var here: SourceLocation { SourceLocation(line: line, column: column) }

    private func failure(_ message: String) -> Failure {
        Failure(message: message, line: line, column: column)
    }

    private mutating func advance() {
        if scalars[i] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        i += 1
    }

    private mutating func skipSpace() throws {
        while i < scalars.count {
            let c = scalars[i]
            if c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{FEFF}" {
                advance()
            } else if c == "/", i + 1 < scalars.count, scalars[i + 1] == "/" {
                warnings.append(("comments are not JSON; ImJoy's JSON.parse would reject them", line, column))
                while i < scalars.count, scalars[i] != "\n" { advance() }
            } else if c == "/", i + 1 < scalars.count, scalars[i + 1] == "*" {
                warnings.append(("comments are not JSON; ImJoy's JSON.parse would reject them", line, column))
                let start = failure("unterminated /* comment")
                advance()
                advance()
                while i + 1 < scalars.count, !(scalars[i] == "*" && scalars[i + 1] == "/") { advance() }
                guard i + 1 < scalars.count else { throw start }
                advance()
                advance()
            } else {
                return
            }
        }
    }

    private mutating func value() throws -> ConfigNode {
        guard i < scalars.count else { throw failure("unexpected end of the config: a value is missing") }
        let location = here
        switch scalars[i] {
        case "{": return try object()
        case "[": return try array()
        case "\"": return ConfigNode(.string(try string()), at: location)
        case "t": return try literal("true", .bool(true))
        case "f": return try literal("false", .bool(false))
        case "n": return try literal("null", .null)
        case "-", "0"..."9": return try number()
        case "'":
            throw failure("strings must use double quotes in JSON (or write the config as YAML with lang=\"yaml\")")
        default:
            throw failure("unexpected '\(scalars[i])': expected a value (object, array, string, number, true, false or null)")
        }
    }

    private mutating func literal(_ word: String, _ kind: ConfigNode.Kind) throws -> ConfigNode {
        let location = here
        for expected in word.unicodeScalars {
            guard i < scalars.count, scalars[i] == expected else {
                throw Failure(message: "invalid literal: expected '\(word)'", line: location.line, column: location.column)
            }
            advance()
        }
        return ConfigNode(kind, at: location)
    }

    private mutating func number() throws -> ConfigNode {
        let location = here
        var text = ""
        while i < scalars.count, "+-0123456789.eE".unicodeScalars.contains(scalars[i]) {
            text.unicodeScalars.append(scalars[i])
            advance()
        }
        guard let value = Double(text) else {
            throw Failure(message: "invalid number '\(text)'", line: location.line, column: location.column)
        }
        return ConfigNode(.number(value), at: location)
    }

    private mutating func string() throws -> String {
        let start = failure("unterminated string: add the closing \"")
        advance()
        var out = String.UnicodeScalarView()
        while i < scalars.count {
            let c = scalars[i]
            if c == "\"" {
                advance()
                return String(out)
            }
            if c.value < 0x20 {
                throw failure(
                    "control character U+\(String(c.value, radix: 16, uppercase: true)) inside a string: write it escaped (\\n, \\t)")
            }
            if c == "\\" {
                advance()
                guard i < scalars.count else { throw start }
                let e = scalars[i]
                switch e {
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "/": out.append("/")
                case "b": out.append("\u{8}")
                case "f": out.append("\u{C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "u":
                    var hex = ""
                    for _ in 0..<4 {
                        advance()
                        guard i < scalars.count else { throw start }
                        hex.unicodeScalars.append(scalars[i])
                    }
                    guard let code = UInt32(hex, radix: 16) else { throw failure("invalid \\u escape '\\u\(hex)'") }
                    out.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default:
                    throw failure("invalid escape '\\\(e)' in a string")
                }
                advance()
                continue
            }
            out.append(c)
            advance()
        }
        throw start
    }

    private mutating func enter() throws {
        depth += 1
        if depth > 256 { throw failure("the config nests more than 256 levels deep") }
    }

    private mutating func array() throws -> ConfigNode {
        let location = here
        try enter()
        defer { depth -= 1 }
        advance()
        var values: [ConfigNode] = []
        try skipSpace()
        if i < scalars.count, scalars[i] == "]" {
            advance()
            return ConfigNode(.array(values), at: location)
        }
        while true {
            try skipSpace()
            values.append(try value())
            try skipSpace()
            guard i < scalars.count else {
                throw Failure(message: "unclosed array: add ']'", line: location.line, column: location.column)
            }
            if scalars[i] == "," {
                advance()
                try skipSpace()
                if i < scalars.count, scalars[i] == "]" {
                    warnings.append(("trailing comma before ']'", line, column))
                    advance()
                    return ConfigNode(.array(values), at: location)
                }
            } else if scalars[i] == "]" {
                advance()
                return ConfigNode(.array(values), at: location)
            } else {
                throw failure("expected ',' or ']' after an array element, found '\(scalars[i])'")
            }
        }
    }

    private mutating func object() throws -> ConfigNode {
        let location = here
        try enter()
        defer { depth -= 1 }
        advance()
        var entries: [ConfigNode.Entry] = []
        try skipSpace()
        if i < scalars.count, scalars[i] == "}" {
            advance()
            return ConfigNode(.object(entries), at: location)
        }
        while true {
            try skipSpace()
            guard i < scalars.count else {
                throw Failure(message: "unclosed object: add '}'", line: location.line, column: location.column)
            }
            guard scalars[i] == "\"" else {
                throw failure("expected a member name in double quotes, found '\(scalars[i])'")
            }
            let keyLocation = here
            let key = try string()
            try skipSpace()
            guard i < scalars.count, scalars[i] == ":" else { throw failure("expected ':' after the member name \"\(key)\"") }
            advance()
            try skipSpace()
            let member = try value()
            entries.append(ConfigNode.Entry(key: key, keyLocation: keyLocation, value: member))
            try skipSpace()
            guard i < scalars.count else {
                throw Failure(message: "unclosed object: add '}'", line: location.line, column: location.column)
            }
            if scalars[i] == "," {
                advance()
                try skipSpace()
                if i < scalars.count, scalars[i] == "}" {
                    warnings.append(("trailing comma before '}'", line, column))
                    advance()
                    return ConfigNode(.object(entries), at: location)
                }
            } else if scalars[i] == "}" {
                advance()
                return ConfigNode(.object(entries), at: location)
            } else {
                throw failure("expected ',' or '}' after the value of \"\(key)\", found '\(scalars[i])'")
            }
        }
    }
}
