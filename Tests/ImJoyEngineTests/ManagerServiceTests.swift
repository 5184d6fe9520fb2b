import Foundation
@testable import ImJoyEngine
import ImJoyRPC
import MessagePack
import Testing

struct ManagerServiceTests {
    static func calculator(_ visibility: ServiceVisibility) -> RPCService {
        RPCService(
            id: "calc", name: "Calculator", visibility: visibility,
            members: [
                "add": .function(
                    RPCFunction(name: "add") { call in
                        .int(Int64((call.argument(0, "a")?.intValue ?? 0) + (call.argument(1, "b")?.intValue ?? 0)))
                    })
            ])
    }

    @Test("get_service resolves every id form and the returned functions call the provider", .timeLimit(.minutes(1)))
    func getService() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let provider = try await TestClient.connect(harness.engine, "provider")
            try await provider.register(Self.calculator(.public))
            let consumer = try await TestClient.connect(harness.engine, "consumer")
            for id in ["\(provider.workspace)/provider:calc", "\(provider.workspace)/calc"] {
                let service = try await consumer.manager("get_service", [.string(id)])
                #expect(service["id"]?.stringValue == "\(provider.workspace)/provider:calc")
                #expect(service["config"]?["workspace"]?.stringValue == provider.workspace)
                let add = try #require(service["add"]?.functionValue)
                #expect(try await add(2, 3).intValue == 5)
            }
            let own = try await provider.manager("get_service", [.string("calc")])
            #expect(own["id"]?.stringValue == "\(provider.workspace)/provider:calc")
            let missing = try await #require(throws: RemoteError.self) {
                try await consumer.manager("get_service", ["\(provider.workspace)/nothing"])
            }
            #expect(missing.message.contains("Service not found"))
        }
    }

    @Test("protected services are invisible from other workspaces, public ones are listed and reachable", .timeLimit(.minutes(1)))
    func isolation() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let provider = try await TestClient.connect(harness.engine, "provider")
            try await provider.register(Self.calculator(.protected))
            try await provider.register(
                RPCService(id: "open", visibility: .public, members: ["v": "1"]))
            let stranger = try await TestClient.connect(harness.engine, "stranger")
            let denied = try await #require(throws: RemoteError.self) {
                try await stranger.manager("get_service", [.string("\(provider.workspace)/provider:calc")])
            }
            #expect(denied.message.contains("Permission denied for non-public service"))
            let listed = try await stranger.manager("list_services", [.string(provider.workspace)])
            let ids = listed.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(ids.contains("\(provider.workspace)/provider:open"))
            #expect(!ids.contains("\(provider.workspace)/provider:calc"))
            let ownList = try await provider.manager("list_services")
            let ownIDs = ownList.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(ownIDs.contains("\(provider.workspace)/provider:calc"))
            #expect(!ownIDs.contains("\(provider.workspace)/provider:built-in"), "built-in services are listed only on request")
            let builtIns = try await provider.manager("list_services", [["type": "built-in"]])
            #expect(builtIns.arrayValue?.compactMap { $0["id"]?.stringValue } == ["\(provider.workspace)/provider:built-in"])
            let info = try await provider.manager("get_service_info", ["calc"])
            #expect(info["config"]?["created_by"]?["id"]?.stringValue == provider.connection.user.id)
        }
    }

    @Test("list_services lists compact infos; include_schema (query key or keyword) adds service_schema", .timeLimit(.minutes(1)))
    func listingWithoutSchema() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let provider = try await TestClient.connect(harness.engine, "provider")
            try await provider.register(Self.calculator(.public))
            let compact = try #require(try await provider.manager("list_services").arrayValue?.first)
            #expect(compact["id"]?.stringValue == "\(provider.address):calc")
            #expect(compact["name"]?.stringValue == "Calculator")
            #expect(compact["config"]?["visibility"]?.stringValue == "public")
            #expect(compact["service_schema"] == nil)
            let byQuery = try #require(try await provider.manager("list_services", [["include_schema": true]]).arrayValue?.first)
            #expect(byQuery["service_schema"]?["add"] != nil)
            let byKeyword = try #require(
                try await provider.manager("list_services", kwargs: ["include_schema": true]).arrayValue?.first)
            #expect(byKeyword["service_schema"]?["add"] != nil)
            let info = try await provider.manager("get_service_info", ["calc"])
            #expect(info["service_schema"]?["add"] != nil, "get_service_info keeps the whole info")
        }
    }

    @Test("register_service refuses another client's address; unregister acts on the caller's own service", .timeLimit(.minutes(1)))
    func registration() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let owner = try await TestClient.connect(harness.engine, "owner")
            let token = try #require(try await owner.manager("generate_token").stringValue)
            let guest = try await TestClient.connect(harness.engine, "guest", workspace: owner.workspace, token: token)
            try await owner.register(RPCService(id: "tool", visibility: .public, members: ["v": "owner"]))
            try await guest.register(RPCService(id: "tool", visibility: .public, members: ["v": "guest"]))
            var forged = try #require(await guest.peer.serviceInfo(id: "tool")?.mapValue)
            forged["id"] = .string("\(owner.address):tool")
            let error = try await #require(throws: RemoteError.self) {
                try await guest.manager("register_service", [.encoded(.map(forged))])
            }
            #expect(error.message.contains("does not match the caller"))
            _ = try await guest.manager("unregister_service", ["tool"])
            let remaining = try await owner.manager("list_services", [["service_id": "tool"]])
            #expect(remaining.arrayValue?.compactMap { $0["id"]?.stringValue } == ["\(owner.address):tool"])
            let notOwn = try await #require(throws: RemoteError.self) {
                try await guest.manager("unregister_service", [.string("\(owner.address):tool")])
            }
            #expect(notOwn.message.contains("may only unregister its own services"))
        }
    }

    @Test("a disconnect removes the services, fails pending calls at once and tells callers in any workspace", .timeLimit(.minutes(1)))
    func disconnect() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let provider = try await TestClient.connect(harness.engine, "provider")
            try await provider.register(
                RPCService(
                    id: "slow", visibility: .public,
                    members: [
                        "wait": .function(
                            RPCFunction { _ in
                                try await Task.sleep(for: .seconds(30))
                                return .null
                            })
                    ]))
            let caller = try await TestClient.connect(harness.engine, "caller")
            let service = try await caller.manager("get_service", [.string("\(provider.workspace)/slow")])
            let wait = try #require(service["wait"]?.functionValue)
            let pending = Task { try await wait() }
            try await Task.sleep(for: .milliseconds(200))
            let left = ContinuousClock.now
            await provider.disconnect()
            let result = await pending.result
            #expect(ContinuousClock.now - left < .seconds(5), "at once, not after the 30 s call timeout")
            guard case .failure(let error as RPCError) = result else {
                Issue.record("expected the pending call to fail with an RPCError, got \(result)")
                return
            }
            #expect(error.message.contains(provider.address))
            let gone = try await #require(throws: RemoteError.self) {
                try await caller.manager("get_service", [.string("\(provider.workspace)/slow")])
            }
            #expect(gone.message.contains("Service not found"))
            let afterwards = try await #require(throws: RemoteError.self) { try await wait() }
            #expect(afterwards.message.contains("is not connected"))
        }
    }

    @Test("subscribers receive custom events and client events of their workspace only", .timeLimit(.minutes(1)))
    func events() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let owner = try await TestClient.connect(harness.engine, "owner")
            let token = try #require(try await owner.manager("generate_token").stringValue)
            let received = EventLog()
            await owner.peer.on(event: "greeting") { event in await received.add(event["data"]?.stringValue ?? "?") }
            await owner.peer.on(event: "client_disconnected") { event in
                await received.add("left:\(event["data"]?["id"]?.stringValue ?? "?")")
            }
            _ = try await owner.manager("subscribe", ["greeting"])
            let guest = try await TestClient.connect(harness.engine, "guest", workspace: owner.workspace, token: token)
            let outsider = try await TestClient.connect(harness.engine, "outsider")
            try await guest.peer.emit(event: "greeting", data: "hello")
            try await outsider.peer.emit(event: "greeting", data: "not for you")
            try await received.wait(for: 1)  // the greeting is routed before the guest's socket closes
            await guest.disconnect()
            try await received.wait(for: 2)
            #expect(await received.items == ["hello", "left:guest"])
            let refused = try await #require(throws: RemoteError.self) {
                try await outsider.manager("subscribe", [.string("\(owner.workspace)/greeting")])
            }
            #expect(refused.message.contains("events of other workspaces"))
        }
    }

    @Test("list_clients, echo, log and ping answer", .timeLimit(.minutes(1)))
    func smallMethods() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let client = try await TestClient.connect(harness.engine, "solo")
            let clients = try await client.manager("list_clients")
            #expect(clients.arrayValue?.compactMap { $0["id"]?.stringValue } == [client.address])
            #expect(try await client.manager("echo", [["nested": [1, 2]]])["nested"]?.arrayValue?.count == 2)
            #expect(try await client.manager("log", ["hello from a test"]).isNull)
            #expect(try await client.manager("ping", ["solo"]).stringValue == "pong")
        }
    }

    @Test("the workspace of anonymous clients disappears with its last client", .timeLimit(.minutes(1)))
    func temporaryWorkspaces() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let client = try await TestClient.connect(harness.engine, "brief")
            let token = try #require(try await client.manager("generate_token").stringValue)
            #expect(await harness.engine.workspaces.workspace(client.workspace) != nil)
            await client.disconnect()
            #expect(await harness.engine.workspaces.workspace(client.workspace) == nil)
            let error = try await #require(throws: HandshakeError.self) {
                try await harness.engine.connect(
                    authFrame: EngineHarness.authFrame("late", token: token), sink: RecordingSink())
            }
            #expect(error.message.contains("does not exist"))
        }
    }
}

/// Collects events from handlers and waits for them.
actor EventLog {
    private(set) var items: [String] = []
    func add(_ item: String) { items.append(item) }

    func wait(for count: Int) async throws {
        for _ in 0..<250 where items.count < count {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

struct DescriptorRewriteTests {
    @Test("relative _rtargets in a provider's descriptor are made absolute at any depth")
    func absoluteTargets() {
        let descriptor: MessagePackValue = [
            "id": "calc",
            "add": ["_rtype": "method", "_rtarget": "js-client", "_rmethod": "services.calc.add"],
            "nested": ["list": [["_rtype": "method", "_rtarget": "js-client", "_rmethod": "services.calc.n"]]],
            "absolute": ["_rtype": "method", "_rtarget": "ws-b/other", "_rmethod": "services.x.y"],
        ]
        let fixed = ManagerService.absoluteTargets(descriptor, provider: "ws-a/js-client")
        #expect(fixed["add"]?["_rtarget"]?.stringValue == "ws-a/js-client")
        #expect(fixed["nested"]?["list"]?.arrayValue?.first?["_rtarget"]?.stringValue == "ws-a/js-client")
        #expect(fixed["absolute"]?["_rtarget"]?.stringValue == "ws-b/other")
        #expect(fixed["id"]?.stringValue == "calc")
    }

    @Test("service references of every form parse, and bad ones say what is expected")
    func references() throws {
        let full = try ServiceReference("ws-a/client:svc@app", callerWorkspace: "ws-me")
        #expect(full == ServiceReference(workspace: "ws-a", clientID: "client", serviceID: "svc", appID: "app"))
        #expect(try ServiceReference("ws-a/svc", callerWorkspace: "ws-me").clientID == nil)
        #expect(try ServiceReference("client:svc", callerWorkspace: "ws-me").workspace == "ws-me")
        #expect(try ServiceReference("svc", callerWorkspace: "ws-me").serviceID == "svc")
        let error = try #require(throws: ManagerError.self) { try ServiceReference("a/b/c", callerWorkspace: "ws") }
        #expect(error.message.contains("use '<service>'"))
    }
}
