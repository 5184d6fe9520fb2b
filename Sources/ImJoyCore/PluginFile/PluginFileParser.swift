/// Splits an `.imjoy.html` file into its top-level blocks the way ImJoy's (Vue single-file-component) parser does
/// (IMJOY-PLUGINS.md §1.1): only depth-0 elements are blocks; `script`, `style` and `textarea` are raw text up to
/// their end tag; other blocks end at their matching end tag (same-name nesting counted, other tags ignored);
/// comments, doctype and stray text are skipped; content is de-indented.
public enum PluginFileParser {
    static let rawTextElements: Set<String> = ["script", "style", "textarea"]

    /// Parses `text`; `file` names it in errors.
    public static func parse(_ text: String, file: String? = nil) throws(PluginParseError) -> PluginSource {
        var scanner = Scanner(bytes: Array(text.utf8), lines: LineIndex(text), file: file)
        return PluginSource(blocks: try scanner.blocks())
    }

    struct Scanner {
        let bytes: [UInt8]
        let lines: LineIndex
        let file: String?
        var i = 0

        init(bytes: [UInt8], lines: LineIndex, file: String?) {
            self.bytes = bytes
            self.lines = lines
            self.file = file
        }

        mutating func blocks() throws(PluginParseError) -> [PluginBlock] {
            var result: [PluginBlock] = []
            while i < bytes.count {
                guard bytes[i] == UInt8(ascii: "<") else {
                    i += 1
                    continue
                }
                if starts(with: "<!--", at: i) {
                    i = find("-->", from: i + 4).map { $0 + 3 } ?? bytes.count
                } else if starts(with: "<!", at: i) || starts(with: "<?", at: i) || starts(with: "</", at: i) {
                    i = (find(">", from: i + 1) ?? bytes.count - 1) + 1
                } else if i + 1 < bytes.count, isNameStart(bytes[i + 1]) {
                    result.append(try block())
                } else {
                    i += 1
                }
            }
            return result
        }

        /// Parses the block whose start tag begins at `i`.
        mutating func block() throws(PluginParseError) -> PluginBlock {
            let start = i
            let (name, attributes, selfClosing, tagEnd) = startTag(at: i)
            let location = lines.location(ofByte: start)
            guard !selfClosing else {
                i = tagEnd
                return PluginBlock(
                    type: name, attributes: attributes, content: "", location: location, contentLocation: location,
                    removedIndent: 0)
            }
            let contentStart = tagEnd
            let contentEnd: Int
            if Scanner.isRaw(name) {
                guard let end = endTag(of: name, from: contentStart) else {
                    throw unclosed(name, at: location)
                }
                contentEnd = end
            } else {
                guard let end = matchingEnd(of: name, from: contentStart) else {
                    throw unclosed(name, at: location)
                }
                contentEnd = end
            }
            i = (find(">", from: contentEnd) ?? bytes.count - 1) + 1
            let raw = String(decoding: bytes[contentStart..<contentEnd], as: UTF8.self)
            let (content, removed) = Dedent.apply(raw)
            return PluginBlock(
                type: name, attributes: attributes, content: content, location: location,
                contentLocation: lines.location(ofByte: contentStart), removedIndent: removed)
        }

        static func isRaw(_ name: String) -> Bool { PluginFileParser.rawTextElements.contains(name) }

        func unclosed(_ name: String, at location: SourceLocation) -> PluginParseError {
            PluginParseError(
                .unclosedBlock, "<\(name)> is never closed: add </\(name)> after its content", at: location, file: file)
        }

        /// Reads a start tag: name (lowercased), attributes, whether it is self-closing, and the offset after `>`.
        func startTag(at offset: Int) -> (String, [String: String], Bool, Int) {
            var j = offset + 1
            let nameStart = j
            while j < bytes.count, isNameChar(bytes[j]) { j += 1 }
            let name = String(decoding: bytes[nameStart..<j], as: UTF8.self).lowercased()
            var attributes: [String: String] = [:]
            while j < bytes.count {
                while j < bytes.count, isSpace(bytes[j]) { j += 1 }
                guard j < bytes.count else { break }
                if bytes[j] == UInt8(ascii: ">") { return (name, attributes, false, j + 1) }
                if bytes[j] == UInt8(ascii: "/"), j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: ">") {
                    return (name, attributes, true, j + 2)
                }
                let attributeStart = j
                while j < bytes.count, !isSpace(bytes[j]), bytes[j] != UInt8(ascii: "="), bytes[j] != UInt8(ascii: ">"),
                    !(bytes[j] == UInt8(ascii: "/") && j + 1 < bytes.count && bytes[j + 1] == UInt8(ascii: ">"))
                {
                    j += 1
                }
                if j == attributeStart {
                    j += 1
                    continue
                }
                let key = String(decoding: bytes[attributeStart..<j], as: UTF8.self).lowercased()
                while j < bytes.count, isSpace(bytes[j]) { j += 1 }
                var value = ""
                if j < bytes.count, bytes[j] == UInt8(ascii: "=") {
                    j += 1
                    while j < bytes.count, isSpace(bytes[j]) { j += 1 }
                    if j < bytes.count, bytes[j] == UInt8(ascii: "\"") || bytes[j] == UInt8(ascii: "'") {
                        let quote = bytes[j]
                        let valueStart = j + 1
                        j = valueStart
                        while j < bytes.count, bytes[j] != quote { j += 1 }
                        value = String(decoding: bytes[valueStart..<min(j, bytes.count)], as: UTF8.self)
                        j += 1
                    } else {
                        let valueStart = j
                        while j < bytes.count, !isSpace(bytes[j]), bytes[j] != UInt8(ascii: ">") { j += 1 }
                        value = String(decoding: bytes[valueStart..<j], as: UTF8.self)
                    }
                }
                attributes[key] = value
            }
            return (name, attributes, false, bytes.count)
        }

        /// The offset of `</name` (case-insensitive, followed by space or `>`) at or after `from`.
        func endTag(of name: String, from: Int) -> Int? {
            let pattern = Array("</\(name)".utf8)
            var j = from
            while j + pattern.count <= bytes.count {
                if bytes[j] == UInt8(ascii: "<"), matchesIgnoringCase(pattern, at: j) {
                    let after = j + pattern.count
                    if after >= bytes.count || bytes[after] == UInt8(ascii: ">") || isSpace(bytes[after]) { return j }
                }
                j += 1
            }
            return nil
        }

        /// The end tag that closes a non-raw block, counting nested elements of the same name.
        func matchingEnd(of name: String, from: Int) -> Int? {
            var depth = 1
            var j = from
            while j < bytes.count {
                guard bytes[j] == UInt8(ascii: "<") else {
                    j += 1
                    continue
                }
                if starts(with: "<!--", at: j) {
                    guard let end = find("-->", from: j + 4) else { return nil }
                    j = end + 3
                } else if starts(with: "</", at: j) {
                    var k = j + 2
                    let nameStart = k
                    while k < bytes.count, isNameChar(bytes[k]) { k += 1 }
                    if String(decoding: bytes[nameStart..<k], as: UTF8.self).lowercased() == name {
                        depth -= 1
                        if depth == 0 { return j }
                    }
                    j = k
                } else if j + 1 < bytes.count, isNameStart(bytes[j + 1]) {
                    let (inner, _, selfClosing, tagEnd) = startTag(at: j)
                    if inner == name, !selfClosing { depth += 1 }
                    if Scanner.isRaw(inner), !selfClosing, let end = endTag(of: inner, from: tagEnd) {
                        j = end + 2
                    } else {
                        j = tagEnd
                    }
                } else {
                    j += 1
                }
            }
            return nil
        }

        func starts(with text: String, at offset: Int) -> Bool {
            let pattern = Array(text.utf8)
            guard offset + pattern.count <= bytes.count else { return false }
            for k in 0..<pattern.count where bytes[offset + k] != pattern[k] { return false }
            return true
        }

        func matchesIgnoringCase(_ pattern: [UInt8], at offset: Int) -> Bool {
            for k in 0..<pattern.count where lower(bytes[offset + k]) != lower(pattern[k]) { return false }
            return true
        }

        func find(_ text: String, from: Int) -> Int? {
            var j = from
            while j < bytes.count {
                if starts(with: text, at: j) { return j }
                j += 1
            }
            return nil
        }

        func lower(_ b: UInt8) -> UInt8 { b >= 65 && b <= 90 ? b + 32 : b }
        func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 || b == 12 }
        func isNameStart(_ b: UInt8) -> Bool { (b >= 65 && b <= 90) || (b >= 97 && b <= 122) }
        func isNameChar(_ b: UInt8) -> Bool {
            isNameStart(b) || (b >= 48 && b <= 57) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ":")
        }
    }
}

/// Removes common indentation as the `de-indent` package ImJoy uses does: when the first non-blank line starts
/// with whitespace, the smallest indentation (of that character, space or tab) is removed from every line.
enum Dedent {
    /// The de-indented text and the number of characters removed per line.
    static func apply(_ text: String) -> (String, Int) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first(where: { !$0.allSatisfy(\.isWhitespace) }),
            let indentCharacter = first.first, indentCharacter == " " || indentCharacter == "\t"
        else { return (text, 0) }
        var minimum = Int.max
        for line in lines where !line.allSatisfy(\.isWhitespace) {
            minimum = min(minimum, line.prefix { $0 == indentCharacter }.count)
        }
        guard minimum > 0, minimum != Int.max else { return (text, 0) }
        let result = lines.map { line -> Substring in
            let leading = line.prefix { $0 == indentCharacter }.count
            return line.dropFirst(min(leading, minimum))
        }
        return (result.joined(separator: "\n"), minimum)
    }
}
