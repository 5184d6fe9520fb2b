#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Finds the Python plugin runtime (the repository's `python/` folder, holding `imjoy/runner.py`).
enum PythonRuntimeLocator {
    /// `IMJOY_PYTHON_RUNTIME` if set, else the nearest `python/` folder above the running executable
    /// (`.build/debug/imjoy` → the checkout's `python/`), else `nil`.
    static func locate(environment: [String: String]) -> URL? {
        if let explicit = environment["IMJOY_PYTHON_RUNTIME"], !explicit.isEmpty {
            return URL(fileURLWithPath: explicit)
        }
        guard var directory = executablePath().map({ URL(fileURLWithPath: $0).deletingLastPathComponent() }) else {
            return nil
        }
        for _ in 0..<8 {
            let candidate = directory.appendingPathComponent("python")
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("imjoy/runner.py").path) {
                return candidate
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        return nil
    }

    /// The nearest folder `name` above the running executable that holds `marker` (e.g. `plugins/` with its
    /// `manifest.imjoy.json`), or `nil`.
    static func locateFolder(_ name: String, containing marker: String) -> URL? {
        guard var directory = executablePath().map({ URL(fileURLWithPath: $0).deletingLastPathComponent() }) else {
            return nil
        }
        for _ in 0..<8 {
            let candidate = directory.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent(marker).path) { return candidate }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        return nil
    }

    static func isRuntime(_ url: URL) -> Bool {
        FileManager.default.fileExists(atPath: url.appendingPathComponent("imjoy/runner.py").path)
    }

    private static func executablePath() -> String? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if length > 0 { return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        #endif
        return CommandLine.arguments.first.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
    }
}
