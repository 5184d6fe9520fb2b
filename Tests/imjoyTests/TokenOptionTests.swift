import ArgumentParser
import Testing

@testable import imjoy

/// Tokens are URL-safe base64 and may begin with `-` (an admin token made before new ones avoided it, or any token
/// from elsewhere); `--token <value>` must take it as the value, not report a missing value.
@Suite struct TokenOptionTests {
    @Test func aTokenBeginningWithADashIsTheValueOfToken() throws {
        let options = try EngineOptions.parse(["--server", "http://127.0.0.1:9527", "--token", "-Qx3_abc", "--verbose"])
        #expect(options.token == "-Qx3_abc")
        #expect(options.verbose)
    }

    @Test func theWorkerTakesADashTokenToo() throws {
        let worker = try WorkerCommand.parse(["--server", "http://127.0.0.1:9527", "--token", "--abc", "--name", "w"])
        #expect(worker.token == "--abc")
    }
}
