import ArgumentParser
import Foundation
import ImJoyClient
import ImJoyRPC
import MessagePack

/// `imjoy workspace`: list, create, rename, delete, export and import workspaces.
struct WorkspaceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workspace", abstract: "Manage workspaces (the engine owner's).",
        subcommands: [List.self, Create.self, Rename.self, Delete.self, Export.self, Import.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the workspaces.")
        @OptionGroup var engine: EngineOptions

        func run() async throws {
            let rows = try await usingPluginEngine(engine, workspace: nil) { client, _ in
                try await client.manager("list_workspaces").arrayValue ?? []
            }
            print(
                TextTable.render(
                    header: ["NAME", "DESCRIPTION"],
                    rows: rows.map { [$0["name"]?.stringValue ?? "?", $0["description"]?.stringValue ?? ""] }))
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a workspace.")
        @OptionGroup var engine: EngineOptions
        @Argument(help: "Its name (letters, digits, '-' and '_').") var name: String
        @Option(help: "What it is for.") var description = ""

        func run() async throws {
            let (name, description) = (name, description)
            _ = try await usingPluginEngine(engine, workspace: nil) { client, _ in
                try await client.manager("create_workspace", [["name": .string(name), "description": .string(description)]])
            }
            print("created workspace \(name)")
        }
    }

    struct Rename: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a workspace (nobody may be connected to it).")
        @OptionGroup var engine: EngineOptions
        @Argument var name: String
        @Argument(help: "The new name.") var newName: String

        func run() async throws {
            let (name, newName) = (name, newName)
            _ = try await usingPluginEngine(engine, workspace: nil) { client, _ in
                try await client.manager("rename_workspace", [.string(name), .string(newName)])
            }
            print("renamed workspace \(name) to \(newName)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a workspace with its plugins, settings and workflows (asks for --yes).")
        @OptionGroup var engine: EngineOptions
        @Argument var name: String
        @Flag(help: "Really delete it (there is no undo; export it first to keep a copy).") var yes = false

        func validate() throws {
            guard yes else {
                throw ValidationError(
                    "Deleting workspace \(name) removes its plugins, settings and workflows for good; add --yes to confirm "
                        + "(`imjoy workspace export \(name)` keeps a copy)")
            }
        }

        func run() async throws {
            let name = name
            _ = try await usingPluginEngine(engine, workspace: nil) { client, _ in
                try await client.manager("delete_workspace", [.string(name)])
            }
            print("deleted workspace \(name)")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a workspace to one JSON file.")
        @OptionGroup var engine: EngineOptions
        @Argument var name: String
        @Option(name: .shortAndLong, help: "The file (default: NAME.imjoy-workspace.json; - for standard output).")
        var output: String?

        func run() async throws {
            let document = try await usingPluginEngine(engine, workspace: name) { _, plugins in
                try await plugins.call("export_workspace")
            }
            let text = JSONText.encode(ValueCodec.encodePlain(document))
            let path = output ?? "\(name).imjoy-workspace.json"
            if path == "-" {
                print(text)
            } else {
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                print("exported workspace \(name) to \(path)")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a workspace from an exported file.")
        @OptionGroup var engine: EngineOptions
        @Argument(help: "The exported file.") var file: String
        @Option(help: "The new workspace's name (default: the one in the file).") var name: String?

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("Cannot read \(file): it does not exist or is not readable")
            }
            let text = String(decoding: data, as: UTF8.self)
            let name = name
            let answer = try await usingPluginEngine(engine, workspace: nil) { _, plugins in
                var kwargs: RPCObject = [:]
                if let name { kwargs["name"] = .string(name) }
                return try await plugins.call("import_workspace", .string(text), kwargs: kwargs)
            }
            print(
                "imported workspace \(answer["name"]?.stringValue ?? "?") (\(answer["plugins"]?.intValue ?? 0) plugins, "
                    + "\(answer["workflows"]?.intValue ?? 0) workflows)")
        }
    }
}
