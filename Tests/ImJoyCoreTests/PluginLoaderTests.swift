import ImJoyCore
import Testing

struct PluginLoaderTests {
    @Test("a window plugin with every common field parses field by field")
    func windowPlugin() throws {
        let plugin = try Fixture.load("image-viewer.imjoy.html")
        let c = plugin.config
        #expect(c.name == "Image Viewer")
        #expect(c.id == "Image_Viewer")
        #expect(c.type == .window)
        #expect(c.version == "0.2.1")
        #expect(c.apiVersion == "0.1.8")
        #expect(c.description == "Display an image with contrast controls")
        #expect(c.tags.isEmpty && c.tag == nil)
        #expect(c.labels == ["image", "viewer"])
        #expect(c.icon == "photo")
        #expect(c.cover == ["https://example.org/cover.png"])
        #expect(c.ui == "contrast {id:'contrast', type:'number', min:0, max:10, placeholder:1}")
        #expect(c.inputs?.json == #"{"type":"object","properties":{"image":{"type":"string"}},"required":["image"]}"#)
        #expect(c.outputs?.json == #"{"type":"object","properties":{"roi":{"type":"array"}},"required":[]}"#)
        #expect(c.flags == ["single-instance"])
        #expect(
            c.requirements == [
                .script("https://cdn.example.org/viewer.min.js"), .stylesheet("https://cdn.example.org/theme"),
                .stylesheet("https://cdn.example.org/widget.css"), .module("https://cdn.example.org/mod"),
                .cache("https://cdn.example.org/big.wasm"),
            ])
        #expect(c.dependencies == ["imjoy-team/imjoy-plugins:Image Loader"])
        #expect(c.permissions == ["full-screen"])
        #expect(c.runnable)
        #expect(c.defaults?["w"]?.numberValue == 20)
        #expect(c.metadata["license"]?.stringValue == "MIT")
        #expect(c.metadata["authors"]?.arrayValue?.count == 1)
        #expect(c.unknownFields.isEmpty)
        #expect(plugin.language == "javascript")
        #expect(plugin.scripts.count == 1)
        #expect(plugin.scripts[0].content.hasPrefix("\nclass ImJoyPlugin {"), "the raw content keeps its first newline")
        #expect(plugin.window?.content == "\n<div id=\"root\">\n  <h1 id=\"title\">Viewer</h1>\n  <br>\n</div>\n")
        #expect(plugin.styles.first?.content.contains("#root") == true)
        #expect(plugin.docs?.contains("# Image Viewer") == true)
        #expect(plugin.warnings.isEmpty, "\(plugin.warnings)")
    }

    @Test("tags select per-tag fields and scripts; the first tag is the default")
    func tags() throws {
        let cpu = try Fixture.load("segmenter.imjoy.html")
        #expect(cpu.config.tags == ["CPU", "GPU"])
        #expect(cpu.config.tag == "CPU")
        #expect(cpu.config.flags == ["single-instance"])
        #expect(cpu.config.env == [.command("conda create -n seg-cpu python=3.11")])
        #expect(
            cpu.config.requirements == [
                .pip("numpy"), .pip("scikit-image==0.26.0"),
                .repository(url: "https://github.com/example/models", directory: "models"), .command("echo ready"),
                .conda("tifffile"), .pip("git+https://github.com/example/tool.git"),
            ])
        #expect(cpu.config.ui == "Segment nuclei<br>threshold: {id:'threshold', type:'number', placeholder:0.5}")
        #expect(cpu.config.cmd == "python")
        #expect(cpu.language == "python")
        #expect(cpu.scripts.map(\.tag) == ["CPU", nil])
        let gpu = try Fixture.load("segmenter.imjoy.html", tag: "GPU")
        #expect(gpu.config.tag == "GPU")
        #expect(gpu.config.flags == ["single-instance", "allow-detach"])
        #expect(gpu.config.requirements == [.pip("numpy"), .pip("torch")])
        #expect(gpu.config.env.count == 2)
        if case .spec(let type, let options) = gpu.config.env[1] {
            #expect(type == "gputil")
            #expect(options["options"]?["limit"]?.numberValue == 1)
        } else {
            Issue.record("expected a gputil env spec")
        }
        #expect(gpu.scripts.map(\.tag) == ["GPU", nil])
    }

    @Test("YAML configs parse like JSON ones")
    func yaml() throws {
        let plugin = try Fixture.load("yaml-worker.imjoy.html", tag: "dev")
        #expect(plugin.config.name == "Counter")
        #expect(plugin.config.type == .webWorker)
        #expect(plugin.config.version == "0.1.0")
        #expect(plugin.config.tag == "dev")
        #expect(plugin.config.requirements == [.script("https://cdn.example.org/lib-dev")])
        #expect(plugin.config.runnable == false)
        #expect(plugin.config.passive)
        #expect(plugin.config.ui == "count {id: 'n', type: 'number', placeholder: 3}")
        let stable = try Fixture.load("yaml-worker.imjoy.html")
        #expect(stable.config.requirements == [.script("https://cdn.example.org/lib.js")])
    }

    @Test("legacy mode and type names map to current ones with warnings; unknown fields are kept")
    func legacy() throws {
        let plugin = try Fixture.load("legacy.imjoy.html")
        #expect(plugin.config.type == .nativePython)
        #expect(plugin.config.requirements == [.pip("numpy")])
        #expect(plugin.config.unknownFields["unknown_thing"]?.numberValue == 42)
        let messages = plugin.warnings.map(\.message)
        #expect(messages.contains { $0.contains("'mode' is the pre-0.1.2 name") })
        #expect(messages.contains { $0.contains("type 'pyworker' is deprecated") })
        #expect(messages.contains { $0.contains("unknown field 'unknown_thing'") })
        #expect(plugin.warnings.first { $0.message.contains("unknown field") }?.location == .init(line: 7, column: 3))
    }

    @Test("web-python requirements become micropip packages, scripts and warnings")
    func webPython() throws {
        let plugin = try Fixture.load("web-python.imjoy.html")
        #expect(
            plugin.config.requirements == [
                .pythonPackage("numpy"), .pythonPackage("scipy"), .pythonPackage("scikit-image"),
                .script("https://example.org/helper.js"),
            ])
        #expect(plugin.warnings.contains { $0.message.contains("wheel.whl") })
        #expect(plugin.language == "python")
    }

    @Test("comments, doctype, stray text, trailing commas, indentation and attachments are handled")
    func lenient() throws {
        let plugin = try Fixture.load("lenient.imjoy.html")
        #expect(plugin.config.name == "Lenient Plugin")
        #expect(plugin.config.type == .iframe)
        #expect(plugin.config.labels == ["a", "b"])
        #expect(plugin.scripts.first?.content.hasPrefix("\nconst closing = \"</scr\" + \"ipt>\";") == true, "de-indented by 6")
        #expect(plugin.attachments == ["data.csv": "\nx,y\n1,2\n", "notes": "some notes"])
        #expect(plugin.docs == "Short docs")
        let messages = plugin.warnings.map(\.message)
        #expect(messages.filter { $0.contains("comments are not JSON") }.count == 2)
        #expect(messages.filter { $0.contains("trailing comma") }.count == 2)
        #expect(messages.contains { $0.contains("<attachment> without a name") })
        let comment = plugin.warnings.first { $0.message.contains("comments") }
        #expect(comment?.location == .init(line: 5, column: 7))
    }

    @Test("a .imjoy.json file is a config-only plugin")
    func jsonPlugin() throws {
        let plugin = try Fixture.load("collection.imjoy.json")
        #expect(plugin.config.type == .collection)
        #expect(plugin.config.dependencies.count == 2)
        #expect(plugin.scripts.isEmpty)
    }
}

struct PluginTypeTests {
    static let names: [(String, PluginType, Bool)] = [
        ("window", .window, false), ("web-worker", .webWorker, false), ("iframe", .iframe, false),
        ("rpc-window", .rpcWindow, false), ("rpc-worker", .rpcWorker, false), ("collection", .collection, false),
        ("web-python", .webPython, false), ("native-python", .nativePython, false), ("evil", .evil, false),
        ("web-python-window", .webPythonWindow, true), ("jupyter-notebook", .jupyterNotebook, false),
        ("pyworker", .nativePython, true), ("webworker", .webWorker, true), ("webpython", .webPython, true),
    ]

    @Test("every plugin type, and the deprecated names, parse to the current type", arguments: names)
    func types(name: String, type: PluginType, deprecated: Bool) throws {
        let plugin = try PluginLoader.load(#"<config>{"name": "T", "type": "\#(name)"}</config>"#)
        #expect(plugin.config.type == type)
        #expect(plugin.warnings.contains { $0.message.contains("deprecated") } == deprecated)
        #expect(plugin.language == (type.isPython ? "python" : "javascript"))
    }

    @Test("external web apps keep base_frame; an empty icon means the default one")
    func externalApp() throws {
        let plugin = try Fixture.load("external-app.imjoy.html")
        #expect(plugin.config.type == .rpcWindow)
        #expect(plugin.config.baseFrame == "https://kaibu.org/#/app")
        #expect(plugin.config.passive)
        #expect(plugin.config.icon == "extension")
        #expect(plugin.config.runnable == false)
        let worker = try PluginLoader.load(#"<config>{"name": "W", "type": "web-worker", "base_worker": "https://x.org/w.js"}</config>"#)
        #expect(worker.config.baseWorker == "https://x.org/w.js")
    }
}
