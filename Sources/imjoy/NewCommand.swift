import ArgumentParser
import Foundation
import ImJoyCore

/// `imjoy new`: scaffolds a plugin file from the template of its type.
struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create a plugin file from a template: a working plugin with docs, a form, and a run function.",
        discussion: """
            TYPE is one of \(PluginTemplate.types.map(\.rawValue).joined(separator: ", ")).
            The file is NAME with spaces as dashes, plus .imjoy.html, in --output-dir:
              imjoy new native-python "My Filter"      # writes My-Filter.imjoy.html
            Exit codes: 0 created, 1 the file exists (use --force) or cannot be written, 64 invalid usage.
            """)

    @Argument(help: "The plugin type.")
    var type: String

    @Argument(help: "The plugin's name.")
    var name: String

    @Option(name: .customLong("output-dir"), help: "Folder to write the plugin file into.")
    var outputDirectory = "."

    @Flag(help: "Overwrite an existing file.")
    var force = false

    func validate() throws {
        guard let kind = PluginType(rawValue: type), PluginTemplate.types.contains(kind) else {
            throw ValidationError(
                "'\(type)' is not a type `imjoy new` scaffolds; use one of "
                    + PluginTemplate.types.map(\.rawValue).joined(separator: ", "))
        }
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, !name.contains(where: { $0.isNewline || $0 == "/" || $0 == ":" }) else {
            throw ValidationError("'\(name)' is not a plugin name: use letters, digits, spaces, '-' or '_'")
        }
    }

    func run() throws {
        guard let kind = PluginType(rawValue: type), let source = PluginTemplate.source(type: kind, name: name) else {
            throw ValidationError("'\(type)' is not a type `imjoy new` scaffolds")
        }
        let folder = URL(fileURLWithPath: outputDirectory)
        let file = folder.appendingPathComponent(PluginTemplate.fileName(for: name))
        if FileManager.default.fileExists(atPath: file.path), !force {
            throw CommandFailure("\(file.path) exists; pass --force to overwrite it")
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try Data(source.utf8).write(to: file, options: .atomic)
        } catch {
            throw CommandFailure("cannot write \(file.path): \(error.localizedDescription)")
        }
        let path = outputDirectory == "." ? file.lastPathComponent : file.path
        print("created \(path) (\(kind.rawValue) plugin \"\(name)\")")
        if kind == .nativePython {
            print("try it: imjoy validate \(Self.quoted(path)) && imjoy run \(Self.quoted(path))")
        } else {
            print("try it: imjoy validate \(Self.quoted(path)), then install it in the web app (drop the file on it)")
        }
    }

    private static func quoted(_ path: String) -> String {
        path.contains(" ") ? "'\(path)'" : path
    }
}
