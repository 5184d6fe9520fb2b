#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The outcome of a command run to completion.
public struct CommandResult: Sendable {
    public var status: ExitStatus
    /// The last lines the command wrote (stdout and stderr interleaved as they arrived).
    public var tail: [String]
    /// Every line, when asked for (`keepAll`), else the same as `tail`.
    public var lines: [String]
}

/// Runs short-lived commands (installers, `git clone`, `cmd:` requirements) and streams their output.
enum CommandRunner {
    /// Runs `command` until it exits, handing every output line to `onLine`.
    static func run(
        _ command: CommandSpec, tailLength: Int = 40, keepAll: Bool = false,
        onLine: @Sendable (OutputLine) -> Void = { _ in }
    ) async -> CommandResult {
        let process: ChildProcess
        do {
            process = try await ChildProcess.launch(command)
        } catch {
            return CommandResult(status: .failedToStart(error.reason), tail: [error.description], lines: [])
        }
        var tail = RingBuffer<String>(capacity: tailLength)
        var all: [String] = []
        await withTaskCancellationHandler {
            for await line in process.output {
                onLine(line)
                tail.append(line.text)
                if keepAll { all.append(line.text) }
            }
        } onCancel: {
            process.signal(SIGKILL)
        }
        let status = await process.exitStatus
        let lastLines = tail.elements
        return CommandResult(status: status, tail: lastLines, lines: keepAll ? all : lastLines)
    }
}
