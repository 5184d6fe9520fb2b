import Foundation
import ImJoyClient
import ImJoyRPC
import ImJoyTesting
import Testing

/// The Python interpreter that has hypha-rpc and numpy (set by scripts/test), if any.
let testPython = ProcessInfo.processInfo.environment["IMJOY_TEST_PYTHON"]

/// Swift ⇄ Python through the engine, with the real hypha-rpc client in a child process.
@Suite(.enabled(if: testPython != nil, "set IMJOY_TEST_PYTHON to a Python with hypha-rpc and numpy (scripts/test does)"))
struct PythonInteropTests {
    static let script = Bundle.module.url(forResource: "interop", withExtension: "py", subdirectory: "Fixtures")!

    /// Runs the interop script against `url`; returns its output lines once it exits.
    static func runPython(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: testPython!)
        process.arguments = [script.path] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text)
    }

    @Test("Python calls a Swift service with an ndarray and a callback", .timeLimit(.minutes(2)))
    func pythonCallsSwift() async throws {
        try await LiveServer.run { url in
            try await ImJoyClient.withConnection(to: url) { swift in
                try await swift.registerService(Fixtures.tools)
                let (status, output) = try await Self.runPython(["call-swift", url, "\(swift.address):tools"])
                #expect(status == 0, "\(output)")
                #expect(output.contains("add=3"), "\(output)")
                #expect(output.contains("scale=ok"), "\(output)")
                #expect(output.contains("countdown=60"), "\(output)")
            }
        }
    }

    @Test("Swift calls a Python service with an ndarray and a callback", .timeLimit(.minutes(2)))
    func swiftCallsPython() async throws {
        try await LiveServer.run { url in
            try await ImJoyClient.withConnection(to: url) { swift in
                let token = try await swift.generateToken()
                let python = Task { try await Self.runPython(["serve-python", url, swift.workspace, token]) }
                defer { python.cancel() }
                var service: RemoteService?
                for _ in 0..<200 where service == nil {
                    service = try? await swift.getService("python-tools")
                    if service == nil { try await Task.sleep(for: .milliseconds(50)) }
                }
                let tools = try #require(service, "the Python service never appeared")
                let input = NDArray((0..<300_000).map { UInt16($0 % 65536) }, shape: [600, 500])
                let summed = try await tools.call("total", .ndarray(input))
                #expect(summed.intValue == (0..<300_000).reduce(0) { $0 + $1 % 65536 })
                let doubled = try #require(try await tools.call("double", .ndarray(input)).ndarrayValue)
                #expect(doubled.dtype == "uint16")
                #expect(doubled.values(as: UInt16.self)?[7] == 14)
                let seen = Collected()
                let callback = RPCFunction(name: "progress") { call in
                    await seen.add(call.positional[0].intValue ?? -1)
                    return .null
                }
                #expect(try await tools.call("steps", .function(callback), 5).stringValue == "done")
                #expect(await seen.items == [0, 1, 2, 3, 4])
                _ = try await tools.call("stop")
                let (status, output) = try await python.value
                #expect(status == 0, "\(output)")
            }
        }
    }
}

actor Collected {
    private(set) var items: [Int] = []
    func add(_ item: Int) { items.append(item) }
}
