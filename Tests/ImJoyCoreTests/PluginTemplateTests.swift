import ImJoyCore
import Testing

struct PluginTemplateTests {
    @Test("every template of `imjoy new` loads as its type, with its name, a form and no warnings", arguments: PluginTemplate.types)
    func templatesLoad(type: PluginType) throws {
        let name = "My \"Quoted\" \(type.rawValue)"
        let source = try #require(PluginTemplate.source(type: type, name: name))
        let plugin = try PluginLoader.load(source, file: PluginTemplate.fileName(for: name))
        #expect(plugin.config.name == name)
        #expect(plugin.config.type == type)
        #expect(plugin.config.version == "0.1.0")
        #expect(plugin.warnings.isEmpty, "\(plugin.warnings)")
        let form = try Op.main(of: plugin.config).form
        #expect(form.widgets.map(\.id) == ["factor"])
        #expect(form.defaultValues["factor"]?.numberValue == 2)
        #expect((plugin.window != nil) == (type == .window))
        #expect(plugin.language == (type == .nativePython || type == .webPython ? "python" : "javascript"))
    }

    @Test("plugin names become file names with dashes; other types are not scaffolded")
    func names() {
        #expect(PluginTemplate.fileName(for: "Nuclei Counter") == "Nuclei-Counter.imjoy.html")
        #expect(PluginTemplate.source(type: .collection, name: "x") == nil)
    }
}
