/// A plugin's `<config>`, with every field of IMJOY-PLUGINS.md §1.3 typed, defaulted and resolved for the selected tag.
public struct PluginConfig: Sendable, Hashable {
    public var name: String
    public var type: PluginType
    public var version: String
    public var apiVersion: String?
    public var description: String?
    /// Configuration modes the plugin can be installed in.
    public var tags: [String]
    /// The selected tag (explicit, else the first of `tags`).
    public var tag: String?
    public var labels: [String]
    /// The main op's form in the `ui` mini-language, normalised to one string.
    public var ui: String
    public var cover: [String]
    public var icon: String
    /// JSON schema of the data the main op accepts, normalised as ImJoy does (§3.4).
    public var inputs: ConfigNode?
    public var outputs: ConfigNode?
    public var flags: [String]
    public var env: [EnvironmentItem]
    public var requirements: [Requirement]
    /// Plugins to install first (URIs, §5.2).
    public var dependencies: [String]
    public var permissions: [String]
    /// Legacy engine interpreter command.
    public var cmd: String?
    public var runnable: Bool
    /// Default window options (`w`, `h`, `fullscreen`, `standalone`, `as_dialog`).
    public var defaults: ConfigNode?
    public var baseFrame: String?
    public var baseWorker: String?
    public var passive: Bool
    /// Informational metadata kept as written: `authors`, `license`, `repository`, `website`, `url` …
    public var metadata: [String: ConfigNode]
    /// Fields this engine does not know, kept as written.
    public var unknownFields: [String: ConfigNode]

    /// The database key ImJoy derives from the name (spaces → `_`).
    public var id: String { name.replacingSpaces(with: "_") }
}

extension String {
    func replacingSpaces(with replacement: Character) -> String {
        String(map { $0 == " " ? replacement : $0 })
    }
}

/// A parsed plugin file: its config, the blocks that apply to the selected tag, and the warnings.
public struct Plugin: Sendable, Hashable {
    public var config: PluginConfig
    public var source: PluginSource
    /// `<script>` blocks without a `tag`, or with the selected one, in order.
    public var scripts: [PluginBlock]
    /// The language of the plugin's code (`javascript` or `python`).
    public var language: String
    public var window: PluginBlock?
    public var styles: [PluginBlock]
    public var docs: String?
    /// Attachments by `name`.
    public var attachments: [String: String]
    public var warnings: [PluginWarning]
    /// The whole source text.
    public var code: String
}
