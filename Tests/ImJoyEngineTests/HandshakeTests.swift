import Foundation
@testable import ImJoyEngine
import ImJoyRPC
import Testing

struct HandshakeTests {
    @Test("an anonymous client gets its own workspace and a complete connection_info", .timeLimit(.minutes(1)))
    func anonymous() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let (connection, info) = try await harness.engine.connect(
                authFrame: EngineHarness.authFrame("alice"), sink: RecordingSink())
            #expect(connection.workspace.hasPrefix("ws-user-anonymouz-"))
            #expect(connection.address == "\(connection.workspace)/alice")
            let object = try #require(JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any])
            #expect(object["type"] as? String == "connection_info")
            #expect(object["workspace"] as? String == connection.workspace)
            #expect(object["client_id"] as? String == "alice")
            #expect(object["manager_id"] as? String == harness.engine.configuration.managerID)
            #expect(object["public_base_url"] as? String == "http://engine.test")
            #expect((object["reconnection_token"] as? String)?.isEmpty == false)
            let user = try #require(object["user"] as? [String: Any])
            #expect(user["is_anonymous"] as? Bool == true)
        }
    }

    static let malformed: [(String, String)] = [
        ("not json", "Failed to decode authentication information"),
        ("[1, 2]", "Failed to decode authentication information"),
        (#"{"workspace": null}"#, "`client_id` is missing"),
        (#"{"client_id": 5}"#, "`client_id` must be a string"),
        (#"{"client_id": "a/b"}"#, "must not contain '/', ':' or '*'"),
        (#"{"client_id": "*"}"#, "must not contain '/', ':' or '*'"),
    ]

    @Test("a malformed auth frame is refused with a message saying what is wrong", arguments: malformed)
    func malformedAuth(frame: String, expected: String) async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let error = try await #require(throws: HandshakeError.self) {
                try await harness.engine.connect(authFrame: frame, sink: RecordingSink())
            }
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("bad tokens are refused with the reason", .timeLimit(.minutes(1)))
    func badTokens() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            for (token, reason) in [
                ("garbage", "malformed"),
                ("eyJhbGciOiJIUzI1NiJ9.e30.AAAA", "Authentication error"),
            ] {
                let error = try await #require(throws: HandshakeError.self) {
                    try await harness.engine.connect(authFrame: EngineHarness.authFrame("x", token: token), sink: RecordingSink())
                }
                #expect(error.message.hasPrefix("Authentication error: "))
                #expect(error.message.contains(reason), "\(error.message)")
                #expect(error.closeCode == 1008)
            }
        }
    }

    @Test("an anonymous client may not enter another workspace", .timeLimit(.minutes(1)))
    func foreignWorkspace() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let error = try await #require(throws: HandshakeError.self) {
                try await harness.engine.connect(
                    authFrame: EngineHarness.authFrame("x", workspace: "public"), sink: RecordingSink())
            }
            #expect(error.message.contains("Permission denied for workspace: public"))
        }
    }

    @Test("a token from generate_token lets another client join, and expires", .timeLimit(.minutes(1)))
    func tokens() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let owner = try await TestClient.connect(harness.engine, "owner")
            let token = try #require(try await owner.manager("generate_token", [["permission": "read_write"]]).stringValue)
            let guest = try await TestClient.connect(harness.engine, "guest", workspace: owner.workspace, token: token)
            #expect(guest.workspace == owner.workspace)
            #expect(guest.connection.user.permission(in: owner.workspace) == .readWrite)
            let short = try #require(try await owner.manager("generate_token", [["expires_in": 1]]).stringValue)
            try await Task.sleep(for: .milliseconds(2100))
            let error = try await #require(throws: HandshakeError.self) {
                try await harness.engine.connect(
                    authFrame: EngineHarness.authFrame("late", token: short), sink: RecordingSink())
            }
            #expect(error.message == "Authentication error: the token has expired")
            let guestToken = try await #require(throws: RemoteError.self) {
                try await guest.manager("generate_token", [["workspace": .string(owner.workspace)]])
            }
            #expect(guestToken.message.contains("needs admin permission"))
        }
    }

    @Test("a reconnection token restores the same workspace and client id, only for that client", .timeLimit(.minutes(1)))
    func reconnection() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let first = try await TestClient.connect(harness.engine, "roamer")
            let token = first.reconnectionToken
            await first.disconnect()
            let back = try await TestClient.connect(harness.engine, "roamer", reconnection: token)
            #expect(back.address == first.address)
            #expect(back.connection.user.id == first.connection.user.id)
            let error = try await #require(throws: HandshakeError.self) {
                try await harness.engine.connect(
                    authFrame: EngineHarness.authFrame("thief", reconnection: token), sink: RecordingSink())
            }
            #expect(error.message.contains("Client id mismatch"))
            let asLogin = try await #require(throws: HandshakeError.self) {
                try await harness.engine.connect(
                    authFrame: EngineHarness.authFrame("roamer", token: token), sink: RecordingSink())
            }
            #expect(asLogin.message.contains("reconnection token was sent as token"))
        }
    }

    @Test("a second fresh connection with a live client id is refused and the original keeps working", .timeLimit(.minutes(1)))
    func clientIDConflict() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let owner = try await TestClient.connect(harness.engine, "owner")
            let token = try #require(try await owner.manager("generate_token").stringValue)
            let error = try await #require(throws: HandshakeError.self) {
                try await harness.engine.connect(
                    authFrame: EngineHarness.authFrame("owner", workspace: owner.workspace, token: token),
                    sink: RecordingSink())
            }
            #expect(error.message.contains("Client already exists and is active"))
            #expect(try await owner.manager("echo", ["still here"]).stringValue == "still here")
        }
    }

    @Test("a refresh_token text frame is answered with a new reconnection token", .timeLimit(.minutes(1)))
    func controlFrames() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let sink = RecordingSink()
            let (connection, _) = try await harness.engine.connect(authFrame: EngineHarness.authFrame("c"), sink: sink)
            var frames = sink.frames.makeAsyncIterator()
            #expect(await frames.next()?.text?.contains("connection_info") == true)
            await harness.engine.receive(text: #"{"type": "ping"}"#, from: connection)
            #expect(await frames.next()?.text == #"{"type": "pong"}"#)
            await harness.engine.receive(text: #"{"type": "refresh_token"}"#, from: connection)
            #expect(await frames.next()?.text?.contains("\"reconnection_token\": \"ey") == true)
            await harness.engine.receive(text: #"{"type": "nonsense"}"#, from: connection)
            #expect(await frames.next()?.text?.contains("Unknown text message type 'nonsense'") == true)
            await harness.engine.receive(text: "not json", from: connection)
            #expect(await frames.next()?.text?.contains("must be JSON objects") == true)
        }
    }
}
