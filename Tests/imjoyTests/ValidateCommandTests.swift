import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Testing

/// Runs the `imjoy` executable built next to the tests.
func runImJoy(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let candidates = [directory.appendingPathComponent("imjoy"), directory.deletingLastPathComponent().appendingPathComponent("imjoy")]
    guard let binary = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw CocoaError(.fileNoSuchFile)
    }
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("ImJoyCoreTests/Fixtures").path

struct ValidateCommandTests {
    @Test("validating a folder prints one line per plugin and exits 1 when any is broken")
    func folder() throws {
        let (status, output) = try runImJoy(["validate", fixtures + "/broken/unknown-type.imjoy.html", fixtures + "/image-viewer.imjoy.html"])
        #expect(status == 1)
        #expect(
            output == """
                \(fixtures)/broken/unknown-type.imjoy.html:4:11: unknown plugin type 'quantum-python'; use one of window, web-worker, iframe, rpc-window, rpc-worker, collection, web-python, native-python, evil, web-python-window, jupyter-notebook
                ok Image Viewer window 0.2.1

                """)
        let (all, lines) = try runImJoy(["validate", fixtures])
        #expect(all == 1)
        #expect(lines.split(separator: "\n").count == 17)
        #expect(lines.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == 8)
    }

    @Test("valid files exit 0; --json and --verbose report warnings")
    func json() throws {
        let (status, output) = try runImJoy(["validate", "--json", fixtures + "/legacy.imjoy.html"])
        #expect(status == 0)
        #expect(output.hasPrefix(#"[{"file": ""#))
        #expect(output.contains(#""name": "Old Worker", "type": "native-python", "version": "0.1.0", "errors": [], "warnings": [{"message": "'mode' is the pre-0.1.2 name of 'type'; write \"type\"", "line": 4, "column": 3}"#))
        let (_, verbose) = try runImJoy(["validate", "--verbose", fixtures + "/legacy.imjoy.html"])
        #expect(verbose.contains("legacy.imjoy.html:7:3: warning: unknown field 'unknown_thing' is kept but not used"))
    }

    @Test("usage errors and help say what to do")
    func usage() throws {
        let (status, output) = try runImJoy(["validate"])
        #expect(status == 64)
        #expect(output.hasPrefix("Error: Missing expected argument '<inputs> ...'\nHelp:  <inputs>  Plugin files, folders, or URLs.\nUsage: imjoy validate <inputs> ..."))
        let (helpStatus, help) = try runImJoy(["validate", "--help"])
        #expect(helpStatus == 0)
        #expect(help.contains("Exit codes: 0 every plugin is valid, 1 at least one is not, 64 invalid usage."))
        let (missing, message) = try runImJoy(["validate", "/nonexistent/x.imjoy.html"])
        #expect(missing == 1)
        #expect(message == "/nonexistent/x.imjoy.html: no such file or folder\n")
    }

    @Test("plugin URLs are downloaded first; download failures are reported per URL", .timeLimit(.minutes(1)))
    func urls() async throws {
        let router = Router()
        let plugin = try String(contentsOfFile: fixtures + "/image-viewer.imjoy.html", encoding: .utf8)
        router.get("/viewer.imjoy.html") { _, _ in plugin }
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portContinuation.yield($0.localAddress?.port ?? 0) }, logger: Logger(label: "test"))
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let base = "http://127.0.0.1:\(port)"
            let (status, output) = try runImJoy(["validate", "\(base)/viewer.imjoy.html", "\(base)/missing.imjoy.html"])
            #expect(status == 1)
            #expect(
                output == """
                    ok Image Viewer window 0.2.1
                    \(base)/missing.imjoy.html: cannot download \(base)/missing.imjoy.html: HTTP 404 Not Found

                    """)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
