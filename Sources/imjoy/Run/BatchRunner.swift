import Foundation
import ImJoyClient
import ImJoyCore
import ImJoyEngine
import ImJoyRPC
import MessagePack

/// Runs a ``BatchPlan`` against an engine: installs and starts the plugins, then runs every input through the
/// steps, one after the other, writing each input's results as soon as it is done.
struct BatchRunner: Sendable {
    /// One step, ready to call: the op's `run` and its ctx.config.
    struct ReadyStep: Sendable {
        var label: String
        var run: RPCFunction
        var config: RPCObject
        /// The plugin takes one workflow run's calls one at a time in arrival order (ImJoy's Python runtime
        /// does: its service config says `workflow_calls_in_order`), so the next input can be sent before the
        /// current one is done.
        var queuesWorkflowCalls = false
    }

    /// Whether a plugin service's config says it queues calls carrying the same `_workflow_id`
    /// (`workflow_calls_in_order`).
    static func queuesWorkflowCalls(config: RPCValue?) -> Bool {
        config?["workflow_calls_in_order"]?.boolValue ?? false
    }

    let plan: BatchPlan
    let steps: [ReadyStep]

    /// Installs what is missing, starts each plugin once and finds each step's op.
    /// - Throws: ``CommandFailure`` naming the step and the plugin that could not be prepared.
    /// - Parameter host: the plugin host native-python plugins start on (`nil`: the engine chooses).
    static func prepare(_ plan: BatchPlan, client: ImJoyClient, plugins: RemoteService, host: String? = nil)
        async throws -> BatchRunner
    {
        if let file = plan.pluginFile {
            _ = try await remote("install \(file)") { try await plugins.call("install", .string(file), kwargs: ["reinstall": true]) }
        }
        let installed = Set(
            (try await remote("list the installed plugins") { try await plugins.call("list") }).arrayValue?
                .compactMap { $0["name"]?.stringValue } ?? [])
        let repository = "\(client.serverBaseURL)/plugins/manifest.imjoy.json"
        var apis: [String: RemoteService] = [:]
        var sources: [String: Plugin] = [:]
        var ready: [ReadyStep] = []
        for (index, step) in plan.steps.enumerated() {
            let where_ = plan.steps.count > 1 ? "step \(index + 1): " : ""
            if apis[step.plugin] == nil, !installed.contains(step.plugin), plan.pluginFile == nil,
                let live = try? await client.getService(ServiceName.id(forPlugin: step.plugin))
            {
                // Not installed, but a connected program offers it (a Swift plugin, a plugin someone started).
                apis[step.plugin] = live
            }
            if apis[step.plugin] == nil {
                if !installed.contains(step.plugin), plan.installsMissing {
                    _ = try await remote(
                        "\(where_)'\(step.plugin)' is not installed in workspace \(client.workspace), no connected "
                            + "program offers it, and the engine's repository has no plugin of that name (install it "
                            + "with `imjoy install`)"
                    ) { try await plugins.call("install", .string(step.plugin), kwargs: ["repository": .string(repository)]) }
                }
                ProgressLine.note("starting \(step.plugin) (its environment is built on first use)")
                let api = try await remote("\(where_)could not start '\(step.plugin)'") {
                    // web-python plugins run on the engine's Python here (there is no browser).
                    var kwargs: RPCObject = ["on_engine": true]
                    if let host { kwargs["host"] = .string(host) }
                    return try await plugins.call("start", .string(step.plugin), kwargs: kwargs)
                }
                apis[step.plugin] = RemoteService(object: api.objectValue ?? [:])
                let source = try await remote("\(where_)could not read '\(step.plugin)'") {
                    try await plugins.call("get_source", .string(step.plugin))
                }
                sources[step.plugin] = try? PluginLoader.load(source.stringValue ?? "", file: "\(step.plugin).imjoy.html")
            }
            let run: RPCFunction
            let queues: Bool
            var defaults: [String: ConfigNode] = [:]
            if step.op == nil || step.op == step.plugin {
                guard let function = apis[step.plugin]?["run"]?.functionValue else {
                    throw CommandFailure("\(where_)'\(step.plugin)' exports no run function; name one of its ops with --op")
                }
                run = function
                queues = queuesWorkflowCalls(config: apis[step.plugin]?["config"])
                if let config = sources[step.plugin]?.config {
                    defaults = (try? Op.main(of: config).form.defaultValues) ?? [:]
                } else if let ui = apis[step.plugin]?["ui"]?.stringValue {
                    defaults = (try? UIForm.parse(ui).defaultValues) ?? [:]
                }
            } else {
                let op = step.op ?? ""
                let id = "\(ServiceName.id(forPlugin: step.plugin))__\(ServiceName.id(forPlugin: op))"
                let service = try await remote("\(where_)'\(step.plugin)' has no op '\(op)'") { .object(try await client.getService(id).object) }
                guard let function = service["run"]?.functionValue else {
                    throw CommandFailure("\(where_)the op '\(op)' of '\(step.plugin)' has no run function")
                }
                run = function
                queues = queuesWorkflowCalls(config: service["config"])
                if let ui = service["ui"]?.stringValue { defaults = (try? UIForm.parse(ui).defaultValues) ?? [:] }
            }
            var config = defaults
            for entry in step.config { config[entry.key] = entry.value }
            for setting in plan.settings where setting.step == nil || setting.step == index + 1 {
                config[setting.key] = setting.value
            }
            let object = RPCObject(config.sorted { $0.key < $1.key }.map { ($0.key, $0.value.rpcValue) })
            ready.append(ReadyStep(label: step.key, run: run, config: object, queuesWorkflowCalls: queues))
        }
        return BatchRunner(plan: plan, steps: ready)
    }

    /// Runs every input (or the steps once, without one); `sequential` takes one input at a time through all steps.
    /// A step that sends no news (answer or heartbeat) for `stepTimeout` fails its input; `nil`: no limit (the
    /// plugins are not asked for heartbeats, and a step fails only when its plugin does or goes away).
    func runAll(progress: ProgressLine, sequential: Bool = false, stepTimeout: Duration? = nil) async throws -> BatchOutcome {
        if let output = plan.output {
            do {
                try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            } catch {
                throw CommandFailure("cannot create the output folder \(output.path): \(error.localizedDescription)")
            }
        }
        let inputs: [URL?] = plan.inputs.isEmpty ? [nil] : plan.inputs
        // A pipeline: while one input is in step 2 the next one is in step 1. Each step takes its inputs in input
        // order (its gate). A plugin that queues one workflow run's calls (ImJoy's Python runtime) gets the next
        // input while it still works on the current one, so it never waits for a round trip through the engine
        // between two inputs, and still runs them one at a time; the next call goes once the one before it is
        // wholly sent (a chunked one takes several round trips), so they arrive in input order. Any other step,
        // and every step under a time limit (a queued call's wait would count against it), has one input at a
        // time in flight. An input's result files are written while the next inputs run (a few at most wait for the disk).
        // Results are reported in input order.
        let capacities = steps.map { step in sequential || stepTimeout != nil || !step.queuesWorkflowCalls ? 1 : 2 }
        let depth = sequential ? 1 : max(1, min(capacities.reduce(0, +), inputs.count))
        let workflowID = RPCValue.string("imjoy-run-\(UUID().uuidString)")
        let maxWriting = 4
        let clock = ContinuousClock()
        let started = clock.now
        var results = [BatchOutcome.InputResult?](repeating: nil, count: inputs.count)
        var reported = 0
        let gates = capacities.map { SerialGate(capacity: $0) }
        await withTaskGroup(of: InputEvent.self) { group in
            var next = 0
            var running = 0
            var writing = 0
            func fill() {
                while next < inputs.count, running < depth, writing < maxWriting {
                    let index = next
                    next += 1
                    running += 1
                    progress.started(index: index, of: inputs.count, name: inputs[index]?.lastPathComponent ?? plan.title)
                    group.addTask {
                        await runSteps(inputs[index], index: index, gates: gates, workflowID: workflowID, timeout: stepTimeout)
                    }
                }
            }
            func finish(_ index: Int, _ result: BatchOutcome.InputResult) {
                results[index] = result
                while reported < inputs.count, let done = results[reported] {
                    progress.finished(index: reported, of: inputs.count, result: done)
                    reported += 1
                }
            }
            fill()
            for await event in group {
                switch event {
                case .ran(let index, let result, let data?):
                    running -= 1
                    if let output = plan.output {
                        writing += 1
                        let stem = inputs[index].map { $0.deletingPathExtension().lastPathComponent } ?? "result"
                        // Off the connection's event loop (the steps run there): the disk must not hold up the sockets.
                        group.addTask(executorPreference: globalConcurrentExecutor) {
                            .written(index, Self.writeFiles(of: result, data: data, stem: stem, to: output))
                        }
                    } else {
                        finish(index, result)
                    }
                case .ran(let index, let result, nil):
                    running -= 1
                    finish(index, result)
                case .written(let index, let result):
                    writing -= 1
                    finish(index, result)
                }
                fill()
            }
        }
        progress.done()
        let seconds = (clock.now - started).inSeconds
        ProgressLine.note(
            "\(inputs.count) input\(inputs.count == 1 ? "" : "s") in \(String(format: "%.3f", seconds)) s "
                + "(\(String(format: "%.2f", Double(inputs.count) / max(seconds, 1e-9))) inputs/s, \(depth) in flight)")
        return BatchOutcome(results: results.compactMap { $0 })
    }

    /// What happened to an input: it went through the steps (with the result to write when they succeeded), or
    /// its result files are written.
    private enum InputEvent: Sendable {
        case ran(Int, BatchOutcome.InputResult, RPCValue?)
        case written(Int, BatchOutcome.InputResult)
    }

    /// Takes one input through every step.
    /// Each call's ctx carries ImJoy's `_workflow_id` (the same for the whole run).
    private func runSteps(
        _ input: URL?, index ticket: Int, gates: [SerialGate], workflowID: RPCValue, timeout: Duration?
    ) async -> InputEvent {
        let name = input?.lastPathComponent ?? plan.title
        let clock = ContinuousClock()
        let start = clock.now
        var data: RPCValue = input.map { .object(["path": .string($0.path), "name": .string($0.lastPathComponent)]) } ?? .object([:])
        do {
            for (position, (step, gate)) in zip(steps, gates).enumerated() {
                await gate.enter(ticket)
                do {
                    let context: [RPCValue] = [.object(["config": .object(step.config), "data": data, "_workflow_id": workflowID])]
                    let sent: @Sendable () async -> Void = { await gate.sent(ticket) }
                    if let timeout {
                        data = try await step.run.call(context, kwargs: nil, timeout: timeout, whenSent: sent)
                    } else {
                        data = try await step.run.callWithoutTimeLimit(context, whenSent: sent)
                    }
                    await gate.leave(ticket)
                } catch {
                    await gate.leave(ticket)
                    // The later steps never see this input: let the next input through them.
                    for later in gates.dropFirst(position + 1) {
                        await later.enter(ticket)
                        await later.leave(ticket)
                    }
                    throw CommandFailure(steps.count > 1 ? "\(step.label): \(RPCValue.message(of: error))" : RPCValue.message(of: error))
                }
            }
            let result = BatchOutcome.InputResult(
                input: name, ok: true, seconds: (clock.now - start).inSeconds, values: BatchOutput.scalars(of: data))
            return .ran(ticket, result, data)
        } catch {
            let message = (error as? CommandFailure)?.description ?? "\(error)"
            let result = BatchOutcome.InputResult(
                input: name, ok: false, seconds: (clock.now - start).inSeconds, error: Self.summary(of: message),
                detail: message)
            return .ran(ticket, result, nil)
        }
    }

    /// Writes an input's arrays and tables; a failure to write fails the input.
    private static func writeFiles(
        of result: BatchOutcome.InputResult, data: RPCValue, stem: String, to output: URL
    ) -> BatchOutcome.InputResult {
        let clock = ContinuousClock()
        let start = clock.now
        var result = result
        do {
            result.files = try BatchOutput.write(data, stem: stem, to: output)
        } catch {
            let message = (error as? CommandFailure)?.description ?? "\(error)"
            result.ok = false
            result.error = summary(of: message)
            result.detail = message
        }
        result.writeSeconds = (clock.now - start).inSeconds
        return result
    }

    /// One line for an error: its first, or for a Python traceback its last (`ValueError: …`), keeping the
    /// step's label in front.
    static func summary(of message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = lines.first else { return message }
        guard let traceback = first.range(of: "Traceback (most recent call last):"), let last = lines.last, lines.count > 1
        else { return first }
        return first[..<traceback.lowerBound] + last
    }

    /// A call to the plugin engine, with its error turned into one line that says what was being done.
    static func remote(_ doing: String, _ body: () async throws -> RPCValue) async throws -> RPCValue {
        do {
            return try await body()
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("\(doing): \(RPCValue.message(of: error))")
        }
    }
}

/// Lets inputs into a step in input order, at most `capacity` at a time. Input `n` enters after input `n - 1`
/// entered and its call was sent (``sent(_:)``: all of it, also a chunked one), while fewer than `capacity`
/// inputs are inside; so the calls leave in input order and, on one socket, arrive in it. With a capacity of 1,
/// input `n` enters after input `n - 1` left.
actor SerialGate {
    private let capacity: Int
    /// How many tickets have entered: the next one to enter is this one.
    private var entered = 0
    private var inside = 0
    /// The ticket inside whose call is not sent yet: the next one waits for it.
    private var sending: Int?
    private var waiting: [Int: CheckedContinuation<Void, Never>] = [:]

    init(capacity: Int = 1) {
        self.capacity = max(1, capacity)
    }

    func enter(_ ticket: Int) async {
        if ticket == entered, canAdmit {
            admit()
            return
        }
        await withCheckedContinuation { waiting[ticket] = $0 }
    }

    /// `ticket`'s call is on its way: the next ticket may enter (room permitting).
    func sent(_ ticket: Int) {
        if sending == ticket { sending = nil }
        admitWaiting()
    }

    /// `ticket` is done with this step (answered, failed, or passing through after an earlier step failed).
    func leave(_ ticket: Int) {
        inside -= 1
        if sending == ticket { sending = nil }
        admitWaiting()
    }

    private var canAdmit: Bool { sending == nil && inside < capacity }

    private func admitWaiting() {
        if canAdmit, let next = waiting.removeValue(forKey: entered) {
            admit()
            next.resume()
        }
    }

    private func admit() {
        sending = entered
        entered += 1
        inside += 1
    }
}
