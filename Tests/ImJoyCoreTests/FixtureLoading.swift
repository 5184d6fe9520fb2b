import Foundation
import ImJoyCore

/// Reads the plugin files under Fixtures/.
enum Fixture {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }

    static func text(_ name: String) -> String {
        (try? String(contentsOf: url(name), encoding: .utf8)) ?? ""
    }

    static func load(_ name: String, tag: String? = nil) throws -> Plugin {
        try PluginLoader.load(text(name), file: name, tag: tag)
    }

    /// Every fixture file name (valid and broken), for fuzzing.
    static var all: [String] {
        let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        let broken = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("broken").path)) ?? []
        return names.filter { $0.contains(".imjoy.") } + broken.map { "broken/\($0)" }
    }
}
