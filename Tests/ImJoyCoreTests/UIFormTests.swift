import ImJoyCore
import Testing

struct UIFormTests {
    static let widgets: [(String, UIWidget.Kind, String?, String?)] = [
        ("{id:'th', type:'number', min:0, max:255, placeholder:5}", .number, "th", "5"),
        ("{id:'n', type:'number'}", .number, "n", "3"),
        ("{id:'s', type:'string', placeholder:'hello'}", .string, "s", "\"hello\""),
        ("{id:'s', type:'string'}", .string, "s", "\"???\""),
        ("{id:'m', type:'choose', options:['a','b'], placeholder:'b'}", .choose, "m", "\"b\""),
        ("{id:'m', type:'choose', options:[{label:'A', value:'a'}]}", .choose, "m", "\"a\""),
        ("{id:'c', type:'color', placeholder:[0.5, 1, 1]}", .color, "c", "[0.5,1,1]"),
        ("{id:'go', type:'button', label:'Go'}", .button, "go", nil),
        ("{type:'save'}", .save, nil, nil),
        ("{type:'ops', resetVariables:true, onlyOps:['math/set']}", .ops, nil, nil),
        ("{id:'v', type:'variableName', variableType:'number'}", .variableName, "v", nil),
        ("{type:'instructions/comment'}", .comment, nil, nil),
        ("{id:'x', dataID:'y', type:'number', placeholder:1}", .number, "y", "1"),
        ("{\"id\": \"d\", \"type\": \"number\", \"placeholder\": 2}", .number, "d", "2"),
        ("{id:'u', type:'string', placeholder:'http://example.org/a:b'}", .string, "u", "\"http://example.org/a:b\""),
        ("{id:'q', type:'string', placeholder:'it\\'s'}", .string, "q", "\"it's\""),
    ]

    @Test("every widget type parses with its id and default", arguments: widgets)
    func widget(spec: String, kind: UIWidget.Kind, id: String?, defaultJSON: String?) throws {
        let form = try UIForm.parse("label \(spec) after")
        #expect(form.segments.count == 3)
        let widget = try #require(form.widgets.first)
        #expect(widget.kind == kind)
        #expect(widget.id == id)
        #expect(widget.defaultValue?.json == defaultJSON)
        #expect(widget.column == 7)
    }

    @Test("text and widgets alternate; defaults collect by id")
    func segments() throws {
        let form = try UIForm.parse("threshold {id:'th', type:'number', placeholder:5} px<br>mode {id:'m', type:'choose', options:['a','b'], placeholder:'a'}")
        #expect(form.widgets.map(\.id) == ["th", "m"])
        #expect(form.defaultValues["th"]?.numberValue == 5)
        #expect(form.defaultValues["m"]?.stringValue == "a")
        if case .text(let text) = form.segments[2] { #expect(text == " px<br>mode ") } else { Issue.record("text expected") }
        #expect(try UIForm.parse("").segments.isEmpty)
        #expect(try UIForm.parse("just words").widgets.isEmpty)
    }

    static let broken: [(String, Int, String)] = [
        ("a {id:'x', type:'number'", 3, "unbalanced '{' at column 3"),
        ("a } b", 3, "closes no widget spec"),
        ("{id:'x', type:'slider'}", 1, "unknown widget type 'slider'"),
        ("{id:'x'}", 1, "has no type"),
        ("{type:'number'}", 1, "needs an id"),
        ("{id:'x', type:'number', min:zero}", 29, "'zero' is not a value"),
        ("['a']", 0, ""),
    ]

    @Test("broken ui strings give a specific error at their column", arguments: broken)
    func brokenUI(ui: String, column: Int, message: String) throws {
        if ui.hasPrefix("[") {
            #expect(try UIForm.parse(ui).widgets.isEmpty, "brackets are text")
            return
        }
        let error = try #require(throws: PluginParseError.self) { try UIForm.parse(ui) }
        #expect(error.code == .invalidUI)
        #expect(error.message.contains(message), "\(error.message)")
        #expect(error.location?.column == column)
    }

    @Test("a broken ui in a plugin is reported at its position in the file")
    func inPlugin() throws {
        let text = """
            <config lang="json">
            {"name": "P", "type": "window", "ui": "x {id:'a', type:'number'"}
            </config>
            """
        let error = try #require(throws: PluginParseError.self) { try PluginLoader.load(text, file: "p.imjoy.html") }
        #expect(error.description == "p.imjoy.html:2:42: in 'ui': unbalanced '{' at column 3: close the widget spec with '}'")
    }

    @Test("the main op takes the plugin's ui, inputs and outputs")
    func mainOp() throws {
        let plugin = try Fixture.load("image-viewer.imjoy.html")
        let op = try Op.main(of: plugin.config)
        #expect(op.key == "Image Viewer")
        #expect(op.form.widgets.first?.id == "contrast")
        #expect(op.inputs != nil)
        #expect(Op(name: "blur", plugin: "Filters", form: UIForm(segments: [])).key == "Filters/blur")
    }
}
