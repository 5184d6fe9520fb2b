import ArgumentParser
import Foundation

/// The `imjoy` command line.
@main
struct ImJoyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imjoy",
        abstract: "ImJoy: plugins for image and data processing, served by one engine.",
        discussion: """
            Exit codes: 0 success, 1 runtime failure, 2 some inputs of `imjoy run` failed, 64 invalid usage, \
            66 a file named on the command line is missing, 69 the engine cannot be reached.
            """,
        version: "0.1.0",
        subcommands: [
            ServeCommand.self, InstallCommand.self, ListCommand.self, RemoveCommand.self, UpdateCommand.self,
            WorkspaceCommand.self, TokenCommand.self, ValidateCommand.self, RunCommand.self, NewCommand.self, WorkerCommand.self,
        ])

    /// Runs the command; a ``CommandFailure`` is printed as one line and exits with its own code.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("Error: \(failure.description)\n".utf8))
            Self.exit(withError: ExitCode(failure.exitCode))
        } catch {
            Self.exit(withError: error)
        }
    }
}
