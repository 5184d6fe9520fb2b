import ArgumentParser

/// The `imjoy` command line.
@main
struct ImJoyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imjoy",
        abstract: "ImJoy: plugins for image and data processing, served by one engine.",
        discussion: """
            Exit codes: 0 success, 1 runtime failure, 64 invalid usage.
            """,
        version: "0.1.0",
        subcommands: [
            ServeCommand.self, InstallCommand.self, ListCommand.self, RemoveCommand.self, UpdateCommand.self,
            WorkspaceCommand.self, TokenCommand.self, ValidateCommand.self,
        ])
}
