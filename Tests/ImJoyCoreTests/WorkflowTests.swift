import ImJoyCore
import Testing

struct WorkflowTests {
    static func op(_ plugin: String, _ name: String? = nil, ui: String = "", inputs: String? = nil, outputs: String? = nil) throws -> Op {
        let config = """
            <config>{"name": "\(plugin)", "type": "native-python", "ui": "\(ui)"\(inputs.map { ", \"inputs\": \($0)" } ?? "")\(outputs.map { ", \"outputs\": \($0)" } ?? "")}</config>
            """
        let main = try Op.main(of: try PluginLoader.load(config).config)
        guard let name else { return main }
        return Op(name: name, plugin: plugin, form: main.form, inputs: main.inputs, outputs: main.outputs)
    }

    static func ops() throws -> [Op] {
        [
            try op("Reader", outputs: #"{"image": {"type": "object"}, "path": {"type": "string"}}"#),
            try op(
                "Nuclei", "segment", ui: "threshold {id:'threshold', type:'number', min:0, max:1, placeholder:0.5} method {id:'method', type:'choose', options:['otsu','li']}",
                inputs: #"{"image": {"type": "object"}}"#, outputs: #"{"labels": {"type": "object"}}"#),
            try op("Measure", inputs: #"{"labels": {"type": "object"}, "image": {"type": "object"}}"#),
        ]
    }

    static let document = """
        {"format": "imjoy-workflow", "version": 1, "name": "count nuclei",
         "steps": [
           {"plugin": "Reader"},
           {"plugin": "Nuclei", "op": "segment", "config": {"threshold": 0.4, "method": "li"}},
           {"plugin": "Measure"}
         ]}
        """

    @Test("a workflow document parses, round-trips, and its steps name their ops")
    func parse() throws {
        let workflow = try Workflow.parse(Self.document)
        #expect(workflow.name == "count nuclei")
        #expect(workflow.steps.map(\.key) == ["Reader", "Nuclei/segment", "Measure"])
        #expect(workflow.steps[1].config["threshold"]?.numberValue == 0.4)
        let again = try Workflow.parse(workflow.json)
        #expect(again == Workflow(name: workflow.name, steps: again.steps))
        #expect(again.steps.map(\.key) == workflow.steps.map(\.key))
        #expect(again.steps[1].config["method"]?.stringValue == "li")
    }

    @Test("validation names the step of every problem")
    func validate() throws {
        let ops = try Self.ops()
        var workflow = try Workflow.parse(Self.document)
        let problems = workflow.validate(against: ops)
        #expect(problems.map(\.message) == ["step 3 ('Measure'): needs 'image' in its data, but step 2 ('Nuclei/segment') does not output it (outputs: labels)"])
        workflow.steps[1].config = ["threshold": ConfigNode(.number(2)), "method": ConfigNode(.string("max")), "sigma": ConfigNode(.number(1))]
        workflow.steps.append(Workflow.Step(plugin: "Missing"))
        let messages = workflow.validate(against: ops).map(\.message)
        #expect(messages.contains("step 2 ('Nuclei/segment'): 'threshold' is 2, above the maximum 1"))
        #expect(messages.contains("step 2 ('Nuclei/segment'): 'method' is \"max\", not one of \"otsu\", \"li\""))
        #expect(messages.contains("step 2 ('Nuclei/segment'): 'sigma' is not a field of the op's form (fields: method, threshold)"))
        #expect(messages.contains("step 4 ('Missing'): no op 'Missing' is installed; install the plugin 'Missing' or fix the op name"))
    }

    static let broken: [(String, String, Int, Int)] = [
        (#"{"steps": []}"#, "the workflow has no steps", 1, 1),
        (#"{"name": "x"}"#, "no \"steps\" array", 1, 1),
        ("{\"steps\": [\n  {\"op\": \"x\"}\n]}", "step 1 has no \"plugin\"", 2, 3),
        (#"{"format": "other", "steps": [{"plugin": "a"}]}"#, "not an ImJoy workflow", 1, 1),
        (#"{"version": 9, "steps": [{"plugin": "a"}]}"#, "newer than this engine reads", 1, 1),
        (#"{"steps": [{"plugin": "a",]}"#, "invalid JSON in the workflow", 1, 27),
    ]

    @Test("broken workflow documents give specific errors with positions", arguments: broken)
    func brokenDocuments(text: String, message: String, line: Int, column: Int) throws {
        let error = try #require(throws: PluginParseError.self) { try Workflow.parse(text) }
        #expect(error.code == .invalidWorkflow)
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.location == SourceLocation(line: line, column: column))
    }
}
