#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyCore

/// Plugin sources installed per workspace, kept as files (`<dir>/<workspace>/<plugin id>.imjoy.html`) so they
/// survive restarts.
actor InstalledPlugins {
    let directory: URL

    init(directory: URL) {
        self.directory = directory
    }

    /// Validates and stores `text`; a plugin with the same name is replaced. Returns the parsed plugin.
    func install(_ text: String, file: String?, workspace: String) throws -> Plugin {
        let plugin = try PluginLoader.load(text, file: file)
        let folder = folder(for: workspace)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: folder.appendingPathComponent(fileName(for: plugin.config.id)), options: .atomic)
        return plugin
    }

    /// The installed plugin called `name` (its name or id), parsed for `tag`.
    func plugin(named name: String, workspace: String, tag: String?) throws -> Plugin? {
        let folder = folder(for: workspace)
        for candidate in [name] {
            let url = folder.appendingPathComponent(fileName(for: candidate))
            if let data = FileManager.default.contents(atPath: url.path) {
                return try PluginLoader.load(String(decoding: data, as: UTF8.self), file: url.lastPathComponent, tag: tag)
            }
        }
        return nil
    }

    /// Every plugin installed in `workspace` (files that no longer parse are skipped).
    func all(in workspace: String) -> [Plugin] {
        let folder = folder(for: workspace)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".imjoy.html") }.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else { return nil }
            return try? PluginLoader.load(String(decoding: data, as: UTF8.self), file: name)
        }
    }

    private func folder(for workspace: String) -> URL {
        directory.appendingPathComponent(PluginSupervisor.safeName(workspace))
    }

    private func fileName(for id: String) -> String {
        PluginSupervisor.safeName(id) + ".imjoy.html"
    }
}
