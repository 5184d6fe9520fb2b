/// A saved workflow: ops run one after the other, each getting the previous one's result as its data
/// (IMJOY-PLUGINS.md §3.3). Stored as a versioned JSON document:
///
/// ```json
/// {"format": "imjoy-workflow", "version": 1, "name": "count nuclei",
///  "steps": [{"plugin": "Image Reader"}, {"plugin": "Nuclei Tools", "op": "segment", "config": {"threshold": 0.5}}]}
/// ```
public struct Workflow: Sendable, Hashable {
    public struct Step: Sendable, Hashable {
        public var plugin: String
        /// The op's name; `nil` means the plugin's main op.
        public var op: String?
        /// Form values, by widget id.
        public var config: [String: ConfigNode]
        public var location: SourceLocation

        public init(plugin: String, op: String? = nil, config: [String: ConfigNode] = [:], location: SourceLocation = .start) {
            self.plugin = plugin
            self.op = op
            self.config = config
            self.location = location
        }

        /// The op key (`"<plugin>"` or `"<plugin>/<op>"`).
        public var key: String { op.map { $0 == plugin ? plugin : "\(plugin)/\($0)" } ?? plugin }
    }

    public static let format = "imjoy-workflow"
    public static let currentVersion = 1

    public var name: String
    public var description: String?
    public var steps: [Step]

    public init(name: String, description: String? = nil, steps: [Step]) {
        self.name = name
        self.description = description
        self.steps = steps
    }

    /// Parses a workflow document.
    public static func parse(_ text: String, file: String? = nil) throws(PluginParseError) -> Workflow {
        let block = PluginBlock(
            type: "workflow", attributes: [:], content: text, location: .start, contentLocation: .start, removedIndent: 0)
        let root: ConfigNode
        do {
            root = try ConfigText.parse(block, file: file).0
        } catch {
            var e = error
            e.code = .invalidWorkflow
            e.message = e.message.replacingFirst("<config>", with: "the workflow")
            throw e
        }
        func fail(_ message: String, _ node: ConfigNode) -> PluginParseError {
            PluginParseError(.invalidWorkflow, message, at: node.location, file: file)
        }
        guard root.entries != nil else { throw fail("a workflow must be a JSON object", root) }
        if let format = root["format"]?.stringValue, format != Workflow.format {
            throw fail("this is a '\(format)' document, not an ImJoy workflow (\"format\": \"\(Workflow.format)\")", root)
        }
        if let version = root["version"]?.numberValue, Int(version) > currentVersion {
            throw fail("workflow format version \(Int(version)) is newer than this engine reads (\(currentVersion)); update imjoy", root)
        }
        guard let stepNodes = root["steps"]?.arrayValue else { throw fail("the workflow has no \"steps\" array", root) }
        var steps: [Step] = []
        for (index, node) in stepNodes.enumerated() {
            guard node.entries != nil else { throw fail("step \(index + 1) must be an object with a \"plugin\"", node) }
            guard let plugin = node["plugin"]?.stringValue, !plugin.isEmpty else {
                throw fail("step \(index + 1) has no \"plugin\"", node)
            }
            var config: [String: ConfigNode] = [:]
            if let values = node["config"] {
                guard let entries = values.entries else { throw fail("step \(index + 1): \"config\" must be an object", values) }
                for entry in entries { config[entry.key] = entry.value }
            }
            steps.append(Step(plugin: plugin, op: node["op"]?.stringValue, config: config, location: node.location))
        }
        guard !steps.isEmpty else { throw fail("the workflow has no steps", root) }
        return Workflow(name: root["name"]?.stringValue ?? "workflow", description: root["description"]?.stringValue, steps: steps)
    }

    /// The document, as JSON.
    public var json: String {
        var out = "{\"format\":\"\(Workflow.format)\",\"version\":\(Workflow.currentVersion),\"name\":"
        ConfigNode.quote(name, into: &out)
        if let description {
            out += ",\"description\":"
            ConfigNode.quote(description, into: &out)
        }
        out += ",\"steps\":["
        for (i, step) in steps.enumerated() {
            if i > 0 { out += "," }
            out += "{\"plugin\":"
            ConfigNode.quote(step.plugin, into: &out)
            if let op = step.op {
                out += ",\"op\":"
                ConfigNode.quote(op, into: &out)
            }
            if !step.config.isEmpty {
                let entries = step.config.sorted { $0.key < $1.key }.map {
                    ConfigNode.Entry(key: $0.key, keyLocation: .start, value: $0.value)
                }
                out += ",\"config\":" + ConfigNode(.object(entries)).json
            }
            out += "}"
        }
        return out + "]}"
    }

    /// Checks the workflow against the ops that are installed: every step names an op, its config fits the
    /// op's form, and each step's required inputs are among what the previous step declares as outputs.
    /// - Returns: every problem found, each naming its step.
    public func validate(against ops: [Op]) -> [PluginParseError] {
        let byKey = Dictionary(ops.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var problems: [PluginParseError] = []
        var previous: (Op, String)?
        for (index, step) in steps.enumerated() {
            let label = "step \(index + 1) ('\(step.key)')"
            func problem(_ message: String) {
                problems.append(PluginParseError(.invalidWorkflow, "\(label): \(message)", at: step.location))
            }
            guard let op = byKey[step.key] else {
                problem("no op '\(step.key)' is installed; install the plugin '\(step.plugin)' or fix the op name")
                previous = nil
                continue
            }
            let widgets = Dictionary(op.form.widgets.compactMap { w in w.id.map { ($0, w) } }, uniquingKeysWith: { a, _ in a })
            for (key, value) in step.config.sorted(by: { $0.key < $1.key }) {
                guard let widget = widgets[key] else {
                    let fields = widgets.keys.sorted().joined(separator: ", ")
                    problem("'\(key)' is not a field of the op's form (fields: \(fields.isEmpty ? "none" : fields))")
                    continue
                }
                if let message = Self.check(value, for: widget) { problem("'\(key)' \(message)") }
            }
            if let (before, beforeLabel) = previous, let required = op.inputs?["required"]?.arrayValue?.compactMap(\.stringValue),
                let produced = before.outputs?["properties"]?.entries?.map(\.key)
            {
                for name in required where !produced.contains(name) {
                    problem("needs '\(name)' in its data, but \(beforeLabel) does not output it (outputs: \(produced.joined(separator: ", ")))")
                }
            }
            previous = (op, label)
        }
        return problems
    }

    /// Why `value` does not fit `widget`, or nil when it does.
    static func check(_ value: ConfigNode, for widget: UIWidget) -> String? {
        switch widget.kind {
        case .number:
            guard let number = value.numberValue else { return "must be a number, found \(value.kindDescription)" }
            if let min = widget.options["min"]?.numberValue, number < min { return "is \(value.json), below the minimum \(widget.options["min"]!.json)" }
            if let max = widget.options["max"]?.numberValue, number > max { return "is \(value.json), above the maximum \(widget.options["max"]!.json)" }
        case .string:
            if value.stringValue == nil { return "must be a string, found \(value.kindDescription)" }
        case .choose:
            let options = widget.options["options"]?.arrayValue?.map { $0["value"] ?? $0 } ?? []
            if !options.isEmpty, !options.contains(where: { $0.json == value.json }) {
                return "is \(value.json), not one of \(options.map(\.json).joined(separator: ", "))"
            }
        default:
            break
        }
        return nil
    }
}
