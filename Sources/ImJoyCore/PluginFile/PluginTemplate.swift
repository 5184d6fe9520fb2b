/// New plugin files (`imjoy new TYPE NAME`): a working plugin of each type that `imjoy validate` accepts, with its
/// docs, a `ui` form, an op, and a `run` that shows where `ctx.config` and `ctx.data` come from.
public enum PluginTemplate {
    /// The types `imjoy new` scaffolds.
    public static let types: [PluginType] = [.window, .webWorker, .iframe, .nativePython, .webPython]

    /// The file name for a plugin name: spaces become dashes (`My Filter` → `My-Filter.imjoy.html`).
    public static func fileName(for name: String) -> String {
        String(name.map { $0 == " " || $0 == "/" ? "-" : $0 }) + ".imjoy.html"
    }

    /// The source of a new plugin of `type` called `name`; `nil` for types `imjoy new` does not scaffold.
    public static func source(type: PluginType, name: String) -> String? {
        guard types.contains(type) else { return nil }
        let quotedName = jsonString(name)
        let python = type == .nativePython || type == .webPython
        let requirements = type == .nativePython ? #"["numpy"]"# : "[]"
        let extra = type == .window ? #""defaults": {"w": 20, "h": 10},"# + "\n  " : ""
        let config = """
            <config lang="json">
            {
              "name": \(quotedName),
              "type": "\(type.rawValue)",
              "version": "0.1.0",
              "description": "What \(jsonEscaped(name)) does, in one sentence.",
              "tags": [],
              "ui": "Scale by {id: 'factor', type: 'number', min: 0, placeholder: 2}",
              \(extra)"requirements": \(requirements),
              "dependencies": []
            }
            </config>
            """
        let docs = """
            <docs lang="markdown">
            # \(name)
            A \(type.rawValue) plugin. `run(ctx)` gets the form values in `ctx.config` (here `factor`) and the \
            previous step's result in `ctx.data`; what it returns is the next step's data.
            </docs>
            """
        let script = python ? pythonScript(type: type) : javaScript(type: type)
        var parts = [docs, config]
        if type == .window { parts.append(windowBlock) }
        parts.append(script)
        return parts.joined(separator: "\n\n") + "\n"
    }

    private static func pythonScript(type: PluginType) -> String {
        let numpy = type == .nativePython
        return """
            <script lang="python">
            \(numpy ? "import numpy as np\n" : "")from imjoy import api


            class ImJoyPlugin:
                async def setup(self):
                    await api.log("ready")

                async def run(self, ctx):
                    factor = float((ctx.config or {}).get("factor", 2))
                    values = (ctx.data or {}).get("values", [1, 2, 3])
            \(numpy ? "        scaled = (np.asarray(values, dtype=float) * factor).tolist()" : "        scaled = [v * factor for v in values]")
                    await api.showMessage(f"scaled {len(scaled)} values by {factor}")
                    return {"values": scaled, "factor": factor}


            api.export(ImJoyPlugin())
            </script>
            """
    }

    private static func javaScript(type: PluginType) -> String {
        // Only a window plugin has a visible page; iframe plugins run hidden, web workers have no DOM.
        let show = type != .window
            ? ""
            : "\n    document.getElementById(\"result\").textContent = JSON.stringify(values);"
        return """
            <script lang="javascript">
            class ImJoyPlugin {
              async setup() {
                await api.log("ready");
              }

              async run(ctx) {
                const factor = Number((ctx.config || {}).factor ?? 2);
                const values = ((ctx.data || {}).values || [1, 2, 3]).map((v) => v * factor);\(show)
                await api.showMessage(`scaled ${values.length} values by ${factor}`);
                return { values, factor };
              }
            }

            api.export(new ImJoyPlugin());
            </script>
            """
    }

    private static let windowBlock = """
        <window lang="html">
          <div class="plugin-body">
            <h3>Result</h3>
            <pre id="result">run the plugin to see its result</pre>
          </div>
        </window>

        <style lang="css">
        .plugin-body { font-family: sans-serif; padding: 8px; }
        </style>
        """

    private static func jsonString(_ text: String) -> String { "\"\(jsonEscaped(text))\"" }

    private static func jsonEscaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                // Control characters have no place in a plugin name; they become spaces.
                out.unicodeScalars.append(scalar.value < 0x20 ? " " : scalar)
            }
        }
        return out
    }
}
