import Foundation
import ImJoyClient
import ImJoyEngine
import ImJoyRPC
import ImJoyTesting
import Testing

/// A Swift program starts a native-python plugin through `public/plugin-engine` and calls it.
@Suite(.enabled(if: testPython != nil, "set IMJOY_TEST_PYTHON (scripts/test does): plugin environments come from PyPI"))
struct PythonPluginTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let numpyPlugin = repository.appendingPathComponent("Tests/PluginEngine/plugins/NumpyFilter.imjoy.html")

    /// Plugin-engine settings with the repository's runtime; the installer cache is shared with the Python suite
    /// (`IMJOY_TEST_CACHE_DIR`) so packages download once per run.
    static func settings(_ data: URL) -> PluginEngineSettings {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["IMJOY_TEST_CACHE_DIR"].map { URL(fileURLWithPath: $0) } ?? data.appendingPathComponent("cache")
        return PluginEngineSettings(
            dataDirectory: data, runtimeDirectory: repository.appendingPathComponent("python"),
            environments: EnvironmentSettings(
                environmentsDirectory: data.appendingPathComponent("envs"), cacheDirectory: cache,
                processEnvironment: environment),
            processEnvironment: environment)
    }

    @Test(.timeLimit(.minutes(5)))
    func swiftStartsANumpyPluginAndExchangesArrays() async throws {
        let source = try String(contentsOf: Self.numpyPlugin, encoding: .utf8)
        try await LiveServer.run(plugins: Self.settings) { url in
            try await ImJoyClient.withConnection(to: url) { client in
                let engine = try await client.getService("public/plugin-engine")
                let installed = try await engine.call("install", .string(source))
                #expect(installed["name"]?.stringValue == "Numpy Filter")
                let started = try await engine.call("start", .string("Numpy Filter"))
                let plugin = RemoteService(object: try #require(started.objectValue))
                let image = NDArray([UInt8(0), 50, 100, 200], shape: [2, 2])
                let normalized = try #require(try await plugin.call("normalize", .ndarray(image)).ndarrayValue)
                #expect(normalized.dtype == "float32" && normalized.shape == [2, 2])
                #expect(normalized.values(as: Float.self) == [0, 0.25, 0.5, 1])
                let ramp = try #require(
                    try await plugin.call("ramp", .int(3), kwargs: ["width": .int(4)]).ndarrayValue)
                #expect(ramp.dtype == "uint16" && ramp.shape == [3, 4])
                #expect(ramp.values(as: UInt16.self) == (0..<12).map { UInt16($0) })
                let result = try await plugin.call("run", .object(["config": .object([:]), "data": .object([:])]))
                #expect(result["numpy"]?.stringValue?.first?.isNumber == true)
                _ = try await engine.call("stop", .string("Numpy Filter"))
                let status = try await engine.call("status", .string("Numpy Filter"))
                #expect(status["state"]?.stringValue == "stopped")
            }
        }
    }
}
