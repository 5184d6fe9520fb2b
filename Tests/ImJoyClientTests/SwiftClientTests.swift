import Foundation
@testable import ImJoyClient
import ImJoyRPC
import ImJoyTesting
import Testing

/// Services used by the client tests.
enum Fixtures {
    static let tools = RPCService(
        id: "tools", name: "Swift tools", visibility: .public,
        members: [
            "add": .function(
                RPCFunction(name: "add") { call in
                    .int(Int64((call.argument(0, "a")?.intValue ?? 0) + (call.argument(1, "b")?.intValue ?? 0)))
                }),
            "scale": .function(
                RPCFunction(name: "scale") { call in
                    guard let array = call.argument(0, "array")?.ndarrayValue, let values = array.values(as: Float.self)
                    else { throw RemoteError(message: "scale needs a float32 array") }
                    let factor = Float(call.argument(1, "factor")?.doubleValue ?? 2)
                    return .ndarray(NDArray(values.map { $0 * factor }, shape: array.shape))
                }),
            "countdown": .function(
                RPCFunction(name: "countdown") { call in
                    guard let report = call.argument(0, "report")?.functionValue else {
                        throw RemoteError(message: "countdown needs a callback")
                    }
                    let n = call.argument(1, "n")?.intValue ?? 3
                    var total: Int64 = 0
                    for i in stride(from: n, to: 0, by: -1) {
                        total += Int64(try await report(.int(Int64(i))).intValue ?? 0)
                    }
                    return .int(total)
                }),
        ])
}

struct SwiftClientTests {
    @Test("a Swift client serves and a second Swift client calls it through the engine", .timeLimit(.minutes(1)))
    func swiftToSwift() async throws {
        try await LiveServer.run { url in
            try await ImJoyClient.withConnection(to: url) { provider in
                let id = try await provider.registerService(Fixtures.tools)
                #expect(id == "\(provider.workspace)/\(provider.clientID):tools")
                try await ImJoyClient.withConnection(to: url) { consumer in
                    #expect(consumer.workspace != provider.workspace)
                    let tools = try await consumer.getService("\(provider.workspace)/tools")
                    #expect(try await tools.call("add", 1, kwargs: ["b": 2]).intValue == 3)
                    let big = NDArray((0..<200_000).map { Float($0) }, shape: [400, 500])
                    let scaled = try #require(try await tools.call("scale", .ndarray(big), 0.5).ndarrayValue)
                    #expect(scaled.shape == [400, 500])
                    #expect(scaled.values(as: Float.self)?[1000] == 500)
                    let callback = RPCFunction(name: "report") { call in .int(Int64((call.positional[0].intValue ?? 0) * 10)) }
                    #expect(try await tools.call("countdown", .function(callback), 4).intValue == 100)
                }
            }
        }
    }

    @Test("a refused connection reports the engine's reason", .timeLimit(.minutes(1)))
    func refused() async throws {
        try await LiveServer.run { url in
            let error = try await #require(throws: ClientError.self) {
                try await ImJoyClient.withConnection(to: url, options: ConnectionOptions(token: "not-a-token")) { _ in }
            }
            #expect(error.code == .refused)
            #expect(error.message.hasPrefix("Authentication error: the token is malformed"))
        }
    }

    @Test("a token lets a second client join the workspace and list its services", .timeLimit(.minutes(1)))
    func tokens() async throws {
        try await LiveServer.run { url in
            try await ImJoyClient.withConnection(to: url) { owner in
                try await owner.registerService(
                    RPCService(id: "private", members: ["v": "secret"]))
                let token = try await owner.generateToken()
                let options = ConnectionOptions(workspace: owner.workspace, token: token)
                try await ImJoyClient.withConnection(to: url, options: options) { guest in
                    #expect(guest.workspace == owner.workspace)
                    let ids = try await guest.listServices().compactMap { $0["id"]?.stringValue }
                    #expect(ids.contains("\(owner.address):private"))
                    let service = try await guest.getService("private")
                    #expect(service["v"]?.stringValue == "secret")
                }
            }
        }
    }

    @Test("server URLs are turned into socket URLs")
    func urls() async throws {
        try await LiveServer.run { url in
            let http = url.replacingOccurrences(of: "ws://", with: "http://").replacingOccurrences(of: "/ws", with: "/")
            let echoed = try await ImJoyClient.withConnection(to: http) { client in
                try await client.manager("echo", ["via http URL"]).stringValue
            }
            #expect(echoed == "via http URL")
        }
        let error = try await #require(throws: ClientError.self) {
            try await ImJoyClient.withConnection(to: "ftp://nowhere") { _ in }
        }
        #expect(error.code == .invalidURL)
    }

    @Test("socket URLs are split into host, port and request target")
    func endpoints() throws {
        #expect(
            try WebSocketEndpoint("ws://127.0.0.1:9527/ws")
                == WebSocketEndpoint(host: "127.0.0.1", port: 9527, target: "/ws", usesTLS: false))
        let tls = try WebSocketEndpoint("wss://engine.example.org/prefix/ws?x=1")
        #expect(tls == WebSocketEndpoint(host: "engine.example.org", port: 443, target: "/prefix/ws?x=1", usesTLS: true))
        #expect(tls.hostHeader == "engine.example.org")
        let v6 = try WebSocketEndpoint("ws://[::1]:8080")
        #expect(v6 == WebSocketEndpoint(host: "::1", port: 8080, target: "/", usesTLS: false))
        #expect(v6.hostHeader == "[::1]:8080")
        #expect(throws: ClientError.self) { try WebSocketEndpoint("ws://host:99999/ws") }
        #expect(throws: ClientError.self) { try WebSocketEndpoint("ws://[::1/ws") }
        #expect(throws: ClientError.self) { try WebSocketEndpoint("ws:///ws") }
    }

    @Test("an unreachable server is one clear error", .timeLimit(.minutes(1)))
    func unreachable() async throws {
        let error = try await #require(throws: ClientError.self) {
            try await ImJoyClient.withConnection(to: "http://127.0.0.1:1") { _ in }
        }
        #expect(error.code == .closed)
        #expect(error.message.hasPrefix("Could not connect to ws://127.0.0.1:1/ws: "))
    }
}
