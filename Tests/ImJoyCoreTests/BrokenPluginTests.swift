import ImJoyCore
import Testing

struct BrokenPluginTests {
    static let cases: [(String, PluginParseError.Code, Int, Int, String)] = [
        ("broken/unclosed-config.imjoy.html", .unclosedBlock, 1, 1, "<config> is never closed"),
        ("broken/bad-json.imjoy.html", .invalidJSON, 5, 3, "expected ',' or '}' after the value of \"type\""),
        ("broken/bad-yaml.imjoy.html", .invalidYAML, 5, 1, "invalid YAML"),
        ("broken/unknown-type.imjoy.html", .unknownType, 4, 11, "unknown plugin type 'quantum-python'"),
        ("broken/tags-missing.imjoy.html", .tagsRequired, 5, 3, "You must use 'tags' with configurable fields"),
        ("broken/no-config.imjoy.html", .missingConfig, 1, 1, "no <config> block"),
        ("broken/control-char.imjoy.html", .invalidJSON, 5, 27, "control character U+A"),
        ("broken/bad-requirement.imjoy.html", .unsupportedRequirement, 2, 63, "Unsupported requirement type 'foo:'"),
        ("broken/css-in-worker.imjoy.html", .unsupportedRequirement, 2, 63, "CSS requirement"),
    ]

    @Test("each broken file gives a specific error at the right line and column", arguments: cases)
    func broken(file: String, code: PluginParseError.Code, line: Int, column: Int, message: String) throws {
        let error = try #require(throws: PluginParseError.self) { try Fixture.load(file) }
        #expect(error.code == code)
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.location == SourceLocation(line: line, column: column), "\(error)")
        #expect(error.description.hasPrefix("\(file):\(line):\(column): "))
    }

    @Test("unknown config languages and non-object configs are refused")
    func otherErrors() throws {
        let toml = try #require(throws: PluginParseError.self) {
            try PluginLoader.load("<config lang=\"toml\">name = 'x'</config>")
        }
        #expect(toml.code == .unsupportedConfigLanguage)
        let list = try #require(throws: PluginParseError.self) { try PluginLoader.load("<config>[1, 2]</config>") }
        #expect(list.message.contains("must be an object of fields"))
        let slash = try #require(throws: PluginParseError.self) {
            try PluginLoader.load(#"<config>{"name": "a/b", "type": "window"}</config>"#)
        }
        #expect(slash.message.contains("must not contain '/'"))
        let wrongType = try #require(throws: PluginParseError.self) {
            try PluginLoader.load(#"<config>{"name": "a", "type": "window", "tags": "CPU"}</config>"#)
        }
        #expect(wrongType.message == "'tags' must be an array of strings, found a string")
    }
}
