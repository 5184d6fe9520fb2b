import ArgumentParser
import Foundation
import ImJoyCore

/// `imjoy run`: runs a plugin's op or a workflow headless over input files (batch mode).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a plugin's op or a workflow headless, once or over input files.",
        discussion: """
            TARGET is a workflow file (.json, "format": "imjoy-workflow"), a plugin file (.imjoy.html, installed \
            for the run), or the name of a plugin installed in the workspace. Plugins a workflow names that are \
            not installed are installed from the engine's own repository (plugins/).

            Each input file (a folder means every file in it) is run through the op or the workflow's steps: \
            the first step gets {"path": FILE, "name": FILE NAME} as ctx.data, each next step the previous \
            step's result. Without --input it runs once with empty data. ctx.config holds the op's form \
            defaults, then the step's saved settings, then --set values (KEY=VALUE; VALUE is read as JSON when \
            it parses, else as text; STEP.KEY sets it for step number STEP only).

            With --output DIR, the results are written there: arrays as INPUT_KEY.npy, lists of rows as \
            INPUT_KEY.csv, and summary.csv with one row per input (status, seconds through the steps, seconds \
            writing its files, and the result's numbers and texts). A summary table is printed either way; progress goes to standard error.

              imjoy run plugins/workflows/count-nuclei.imjoy.json --input images/ --output out/
              imjoy run "Image Filters" --op Gaussian --input a.png --set sigma=3

            Exit codes: 0 every input ran, 1 the run could not start (plugin or engine failure), 2 some inputs \
            failed (the others' results are written), 64 invalid usage, 66 an input file or TARGET file is \
            missing, 69 the engine at --server cannot be reached.
            """)

    @OptionGroup var engine: EngineOptions
    @OptionGroup var runtime: PluginRuntimeOptions

    @Argument(help: "A workflow file, a plugin file, or an installed plugin's name.")
    var target: String

    @Option(help: "The op to run (default: the plugin's own run); not with a workflow.")
    var op: String?

    @Option(name: .customLong("input"), parsing: .upToNextOption, help: "Input files or folders.")
    var inputs: [String] = []

    @Option(help: "Folder to write results into (created if missing).")
    var output: String?

    @Option(name: .customLong("set"), help: "A setting for the op's ctx.config: KEY=VALUE or STEP.KEY=VALUE.")
    var settings: [String] = []

    @Option(help: "The workspace to run in.")
    var workspace = "default"

    @Flag(
        help: """
            Take one input at a time through all steps (default: a pipeline, each step taking its inputs one at a \
            time and in order; a Python plugin is sent its next input while it works on the current one).
            """)
    var sequential = false

    @Option(help: "The host native-python plugins run on: a connected worker's name (imjoy worker --name), or local.")
    var on: String?

    @Option(
        help: """
            Seconds a step may go without news (its answer or a heartbeat) before its input fails (default: no \
            limit; a plugin that computes without returning to its event loop sends no heartbeats).
            """)
    var timeout: Double?

    func validate() throws {
        if let timeout, !(timeout > 0) {
            throw ValidationError("--timeout must be a positive number of seconds, not \(timeout)")
        }
        for setting in settings {
            guard let equals = setting.firstIndex(of: "="), equals != setting.startIndex else {
                throw ValidationError("--set \(setting) is not KEY=VALUE")
            }
        }
    }

    func run() async throws {
        let plan = try BatchPlan.make(
            target: target, op: op, inputs: inputs, settings: settings, output: output)
        let output = output
        let verbose = engine.verbose
        let host = on
        let sequential = sequential
        let stepTimeout = timeout.map { Duration.milliseconds(Int64($0 * 1000)) }
        let outcome = try await EngineConnection.run(engine, workspace: workspace, pluginRuntime: runtime) {
            client, plugins in
            let runner = try await BatchRunner.prepare(plan, client: client, plugins: plugins, host: host)
            return try await runner.runAll(
                progress: ProgressLine(verbose: verbose), sequential: sequential, stepTimeout: stepTimeout)
        }
        if let output {
            try BatchOutput.writeSummary(outcome, to: URL(fileURLWithPath: output))
        }
        print(outcome.table())
        if outcome.failures > 0 {
            throw CommandFailure(
                "\(outcome.failures) of \(outcome.results.count) inputs failed (see the summary above)",
                exitCode: ExitCodes.someInputsFailed)
        }
    }
}
