/// A named, parameterised entry point of a plugin: a menu item and a workflow step (IMJOY-PLUGINS.md §3.1).
public struct Op: Sendable, Hashable {
    public var name: String
    /// The plugin that provides it.
    public var plugin: String
    public var form: UIForm
    public var inputs: ConfigNode?
    public var outputs: ConfigNode?

    public init(name: String, plugin: String, form: UIForm, inputs: ConfigNode? = nil, outputs: ConfigNode? = nil) {
        self.name = name
        self.plugin = plugin
        self.form = form
        self.inputs = inputs
        self.outputs = outputs
    }

    /// `"<plugin>"` for the main op, `"<plugin>/<op>"` for the others: the key workflows refer to.
    public var key: String { name == plugin ? plugin : "\(plugin)/\(name)" }

    /// The main op every plugin has, built from its config.
    public static func main(of config: PluginConfig) throws(PluginParseError) -> Op {
        Op(
            name: config.name, plugin: config.name, form: try UIForm.parse(config.ui), inputs: config.inputs,
            outputs: config.outputs)
    }
}
