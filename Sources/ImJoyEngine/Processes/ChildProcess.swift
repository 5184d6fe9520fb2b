#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Subprocess
import SystemPackage

/// What to run: an executable, its arguments, environment and working directory.
public struct CommandSpec: Sendable, CustomStringConvertible {
    /// An absolute path, or a name looked up in `PATH`.
    public var executable: String
    public var arguments: [String]
    /// The whole environment of the child (nothing is inherited implicitly).
    public var environment: [String: String]
    public var workingDirectory: String?

    public init(executable: String, arguments: [String] = [], environment: [String: String], workingDirectory: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    public var description: String { ([executable] + arguments).joined(separator: " ") }
}

/// One line a child process wrote.
public struct OutputLine: Sendable, Hashable {
    public enum Stream: String, Sendable { case stdout, stderr }
    public var stream: Stream
    public var text: String

    public init(_ stream: Stream, _ text: String) {
        self.stream = stream
        self.text = text
    }
}

/// How a child process ended.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)
    /// The process could not be started at all.
    case failedToStart(String)

    public var isSuccess: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let code): return "exit code \(code)"
        case .signalled(let signal): return "killed by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "")"
        case .failedToStart(let reason): return "could not start: \(reason)"
        }
    }

    static func signalName(_ signal: Int32) -> String? {
        switch signal {
        case SIGTERM: return "SIGTERM"
        case SIGKILL: return "SIGKILL"
        case SIGINT: return "SIGINT"
        case SIGSEGV: return "SIGSEGV"
        case SIGABRT: return "SIGABRT"
        default: return nil
        }
    }
}

/// A started child process in its own process group: its output lines, its end, and signals to it.
///
/// The process runs until it exits by itself or is signalled; ``signal(_:)`` reaches its whole process group
/// (the plugin and anything it started).
public struct ChildProcess: Sendable {
    /// The process id (also its process-group id).
    public let pid: Int32
    /// stdout and stderr lines, in arrival order per stream; finishes when both streams closed.
    public let output: AsyncStream<OutputLine>
    private let ending: Task<ExitStatus, Never>

    /// Waits for the process to end.
    public var exitStatus: ExitStatus {
        get async { await ending.value }
    }

    /// Sends `signal` to the process group. Harmless after the process ended.
    public func signal(_ signal: Int32) {
        _ = kill(-pid, signal)
    }

    /// Starts `command`. Output lines are buffered (the newest `bufferedLines` kept) until read.
    /// - Throws: ``ProcessLaunchError`` when the executable cannot be started.
    public static func launch(_ command: CommandSpec, bufferedLines: Int = 10_000) async throws(ProcessLaunchError)
        -> ChildProcess
    {
        let (output, lines) = AsyncStream<OutputLine>.makeStream(bufferingPolicy: .bufferingNewest(bufferedLines))
        let (started, startedContinuation) = AsyncStream<Result<Int32, ProcessLaunchError>>.makeStream()
        var options = PlatformOptions()
        options.processGroupID = 0
        var environment: [Environment.Key: String] = [:]
        for (key, value) in command.environment {
            if let key = Environment.Key(rawValue: key) { environment[key] = value }
        }
        let executable: Executable =
            command.executable.contains("/") ? .path(FilePath(command.executable)) : .name(command.executable)
        let ending = Task<ExitStatus, Never> { [options, environment] in
            do {
                let result = try await Subprocess.run(
                    executable, arguments: Arguments(command.arguments), environment: .custom(environment),
                    workingDirectory: command.workingDirectory.map { FilePath($0) }, platformOptions: options,
                    input: .none, output: .sequence, error: .sequence
                ) { execution in
                    startedContinuation.yield(.success(execution.processIdentifier.value))
                    startedContinuation.finish()
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask {
                            do {
                                for try await line in execution.standardOutput.strings() { lines.yield(OutputLine(.stdout, line)) }
                            } catch {}
                        }
                        group.addTask {
                            do {
                                for try await line in execution.standardError.strings() { lines.yield(OutputLine(.stderr, line)) }
                            } catch {}
                        }
                    }
                }
                lines.finish()
                switch result.terminationStatus {
                case .exited(let code): return .exited(code)
                case .signaled(let signal): return .signalled(signal)
                }
            } catch {
                let failure = ProcessLaunchError(command: command.description, reason: "\(error)")
                startedContinuation.yield(.failure(failure))
                startedContinuation.finish()
                lines.finish()
                return .failedToStart(failure.reason)
            }
        }
        for await outcome in started {
            switch outcome {
            case .success(let pid): return ChildProcess(pid: pid, output: output, ending: ending)
            case .failure(let error): throw error
            }
        }
        throw ProcessLaunchError(command: command.description, reason: "the launcher ended without a result")
    }
}

/// A child process could not be started.
public struct ProcessLaunchError: Error, Sendable, CustomStringConvertible {
    public var command: String
    public var reason: String
    public var description: String { "Could not start `\(command)`: \(reason)" }
}
