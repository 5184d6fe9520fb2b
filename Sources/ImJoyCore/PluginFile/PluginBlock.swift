/// One top-level block of a plugin file (`<config>`, `<script>`, `<window>`, `<style>`, `<docs>`, `<attachment>` …).
public struct PluginBlock: Sendable, Hashable {
    /// The tag name, lowercased.
    public var type: String
    /// Attributes; an attribute without a value is `""` (present).
    public var attributes: [String: String]
    /// The text between the start and end tags, de-indented.
    public var content: String
    /// Where the start tag begins.
    public var location: SourceLocation
    /// Where the content begins (line and column of its first character in the file).
    public var contentLocation: SourceLocation
    /// Columns removed from every line by de-indentation (to map content positions back to the file).
    public var removedIndent: Int

    public var lang: String? { attributes["lang"] }
    public var tag: String? { attributes["tag"] }
    public var name: String? { attributes["name"] }

    /// The file location of a position inside `content` (0-based line, 1-based column, as parsers report).
    public func fileLocation(contentLine: Int, contentColumn: Int) -> SourceLocation {
        if contentLine == 0 {
            return SourceLocation(
                line: contentLocation.line, column: contentLocation.column + contentColumn - 1 + removedIndent)
        }
        return SourceLocation(line: contentLocation.line + contentLine, column: contentColumn + removedIndent)
    }
}

/// The blocks of a plugin file, by kind (first `<config>` wins; the others are kept in order).
public struct PluginSource: Sendable, Hashable {
    public var blocks: [PluginBlock]

    public init(blocks: [PluginBlock]) {
        self.blocks = blocks
    }

    public func all(_ type: String) -> [PluginBlock] { blocks.filter { $0.type == type } }
    public var config: PluginBlock? { blocks.first { $0.type == "config" } }
    public var scripts: [PluginBlock] { all("script") }
    public var windows: [PluginBlock] { all("window") }
    public var styles: [PluginBlock] { all("style") }
    public var docs: [PluginBlock] { all("docs") }
    public var attachments: [PluginBlock] { all("attachment") }
    public var links: [PluginBlock] { all("link") }
}
