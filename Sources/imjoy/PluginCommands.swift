import ArgumentParser
import Foundation
import ImJoyClient
import ImJoyRPC

/// Runs `body` against the plugin engine, turning remote errors into one clear line.
func usingPluginEngine<T: Sendable>(
    _ options: EngineOptions, workspace: String?, _ body: @escaping @Sendable (ImJoyClient, RemoteService) async throws -> T
) async throws -> T {
    do {
        return try await EngineConnection.run(options, workspace: workspace, body)
    } catch let error as RemoteError {
        throw CommandFailure(RPCValue.message(of: error))
    }
}

/// `imjoy install`: installs plugins (and their dependencies) into a workspace.
struct InstallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install plugins and their dependencies into a workspace.",
        discussion: """
            SOURCE is a plugin file or a folder of them, an http(s) URL, a GitHub file page or gist, \
            owner/repo[@ref]:Name[@TAG], or a plugin name with --repository.
              imjoy install MyPlugin.imjoy.html
              imjoy install "imjoy-team/imjoy-plugins:Image Window"
              imjoy install "Python Hello" --repository http://127.0.0.1:9527/plugins/manifest.imjoy.json
            """)

    @OptionGroup var engine: EngineOptions

    @Argument(help: "What to install.")
    var sources: [String]

    @Option(help: "The workspace to install into.")
    var workspace = "default"

    @Option(help: "The tag to install (for plugins with tags).")
    var tag: String?

    @Option(help: "A repository manifest (URL or owner/repo) that plugin names are looked up in.")
    var repository: String?

    @Flag(help: "Install even when an equal or newer version is installed.")
    var reinstall = false

    func run() async throws {
        let sources = sources.map(Self.localOrRemote)
        let (tag, repository, reinstall) = (tag, repository, reinstall)
        let lines = try await usingPluginEngine(engine, workspace: workspace) { _, plugins in
            var lines: [String] = []
            for source in sources {
                var kwargs: RPCObject = ["reinstall": .bool(reinstall)]
                if let tag { kwargs["tag"] = .string(tag) }
                if let repository { kwargs["repository"] = .string(repository) }
                let answer = try await plugins.call("install", .string(source), kwargs: kwargs)
                for summary in answer.arrayValue ?? [answer] {
                    let dependencies = summary["dependencies_installed"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    lines.append(
                        "installed \(summary["name"]?.stringValue ?? "?") \(summary["version"]?.stringValue ?? "")"
                            + (dependencies.isEmpty ? "" : " (with \(dependencies.joined(separator: ", ")))"))
                }
            }
            return lines
        }
        for line in lines { print(line) }
    }

    /// Local paths are made absolute (the engine reads them); anything else is passed as it is.
    static func localOrRemote(_ source: String) -> String {
        let lower = source.lowercased()
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") || source.hasPrefix("/") { return source }
        guard FileManager.default.fileExists(atPath: source) else { return source }
        return URL(fileURLWithPath: source).standardizedFileURL.path
    }
}

/// `imjoy list`: the plugins installed in a workspace.
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the plugins installed in a workspace.")

    @OptionGroup var engine: EngineOptions

    @Option(help: "The workspace.")
    var workspace = "default"

    func run() async throws {
        let rows = try await usingPluginEngine(engine, workspace: workspace) { _, plugins in
            try await plugins.call("list").arrayValue ?? []
        }
        guard !rows.isEmpty else {
            print("no plugins installed in \(workspace)")
            return
        }
        let table = rows.map { row in
            [
                row["name"]?.stringValue ?? "?", row["version"]?.stringValue ?? "", row["type"]?.stringValue ?? "",
                row["enabled"]?.boolValue == false ? "disabled" : row["state"]?.stringValue ?? "",
                row["origin"]?.stringValue ?? "-",
            ]
        }
        print(TextTable.render(header: ["NAME", "VERSION", "TYPE", "STATE", "ORIGIN"], rows: table))
    }
}

/// `imjoy remove`: uninstalls plugins.
struct RemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Uninstall plugins (and their settings) from a workspace.")

    @OptionGroup var engine: EngineOptions

    @Argument(help: "Plugin names.")
    var names: [String]

    @Option(help: "The workspace.")
    var workspace = "default"

    func run() async throws {
        let names = names
        try await usingPluginEngine(engine, workspace: workspace) { _, plugins in
            for name in names { _ = try await plugins.call("uninstall", .string(name)) }
        }
        for name in names { print("removed \(name)") }
    }
}

/// `imjoy update`: fetches plugins again from where they came from and installs newer versions.
struct UpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Install newer versions of plugins from where they were installed from.")

    @OptionGroup var engine: EngineOptions

    @Argument(help: "Plugin names (default: every plugin with an origin).")
    var names: [String] = []

    @Option(help: "The workspace.")
    var workspace = "default"

    func run() async throws {
        let names = names
        let lines = try await usingPluginEngine(engine, workspace: workspace) { _, plugins in
            var targets = names
            if targets.isEmpty {
                targets = (try await plugins.call("list").arrayValue ?? []).compactMap { row in
                    row["origin"]?.stringValue == nil ? nil : row["name"]?.stringValue
                }
            }
            var lines: [String] = []
            for name in targets {
                let answer = try await plugins.call("update", .string(name))
                if answer["updated"]?.boolValue == true {
                    lines.append(
                        "updated \(name) \(answer["previous_version"]?.stringValue ?? "") → \(answer["version"]?.stringValue ?? "")")
                } else {
                    lines.append(answer["reason"]?.stringValue ?? "\(name) is up to date")
                }
            }
            return lines
        }
        for line in lines { print(line) }
    }
}

/// Fixed-width text tables for terminal output.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
