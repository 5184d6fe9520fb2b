/// Parses plugin files into ``Plugin``s: blocks, config (JSON or YAML), tag resolution, normalisation and checks.
///
/// ```swift
/// let plugin = try PluginLoader.load(text, file: "Image Viewer.imjoy.html")
/// print(plugin.config.name, plugin.config.type, plugin.config.requirements)
/// ```
public enum PluginLoader {
    /// Fields whose value may be a per-tag object (§1.5).
    static let tagConfigurable: Set<String> = [
        "env", "requirements", "dependencies", "icon", "ui", "type", "flags", "labels", "cover", "base_frame",
        "base_worker", "passive",
    ]

    static let metadataFields: Set<String> = [
        "authors", "license", "repository", "website", "url", "createdAt", "show_panel", "disabled", "extensions",
        "lang", "docs", "id", "allow_execution", "dedicated_thread", "auth", "credential_required",
        "credential_fields", "uri", "origin", "hash", "tag", "namespace", "workspace", "badges", "engine_mode",
    ]

    static let modelFields: Set<String> = [
        "name", "type", "mode", "version", "api_version", "description", "tags", "labels", "ui", "cover", "icon",
        "inputs", "outputs", "flags", "env", "requirements", "dependencies", "permissions", "cmd", "runnable",
        "defaults", "base_frame", "base_worker", "passive",
    ]

    /// Parses a plugin file. `tag` selects a configuration mode (default: the first of `tags`).
    /// - Throws: ``PluginParseError`` with the file position of the problem.
    public static func load(_ text: String, file: String? = nil, tag: String? = nil) throws(PluginParseError) -> Plugin {
        if let file, file.lowercased().hasSuffix(".json") {
            return try loadJSON(text, file: file, tag: tag)
        }
        let source = try PluginFileParser.parse(text, file: file)
        guard let configBlock = source.config else {
            throw PluginParseError(
                .missingConfig, "no <config> block: every plugin file needs one with at least a \"name\"",
                at: .start, file: file)
        }
        var (node, warnings) = try ConfigText.parse(configBlock, file: file)
        if source.all("config").count > 1 {
            warnings.append(PluginWarning("only the first <config> block is used", at: source.all("config")[1].location))
        }
        var config = try decode(node, block: configBlock.location, file: file, tag: tag, warnings: &warnings)
        let scripts = source.scripts.filter { $0.tag == nil || $0.tag == config.tag }
        let language = (scripts.first?.lang ?? config.type.defaultLanguage).lowercased()
        if config.type == .window, source.windows.isEmpty {
            warnings.append(PluginWarning("a window plugin has no <window> block", at: configBlock.location))
        }
        if config.ui.isEmpty, let description = config.description, config.type != .collection {
            config.ui = description
        }
        var attachments: [String: String] = [:]
        for block in source.attachments {
            guard let name = block.name, !name.isEmpty else {
                warnings.append(PluginWarning("<attachment> without a name=\"…\" cannot be retrieved", at: block.location))
                continue
            }
            attachments[name] = block.content
        }
        return Plugin(
            config: config, source: source, scripts: scripts, language: language, window: source.windows.first,
            styles: source.styles, docs: source.docs.first?.content, attachments: attachments, warnings: warnings,
            code: text)
    }

    /// A `.imjoy.json` file: the config object alone (for collections and external web apps).
    static func loadJSON(_ text: String, file: String?, tag: String?) throws(PluginParseError) -> Plugin {
        let block = PluginBlock(
            type: "config", attributes: ["lang": "json"], content: text, location: .start, contentLocation: .start,
            removedIndent: 0)
        var (node, warnings) = try ConfigText.parse(block, file: file)
        let config = try decode(node, block: .start, file: file, tag: tag, warnings: &warnings)
        node = ConfigNode(.null)
        return Plugin(
            config: config, source: PluginSource(blocks: [block]), scripts: [], language: config.type.defaultLanguage,
            window: nil, styles: [], docs: nil, attachments: [:], warnings: warnings, code: text)
    }
}
