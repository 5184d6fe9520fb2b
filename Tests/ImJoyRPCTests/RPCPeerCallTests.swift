import Foundation
import ImJoyRPC
import ImJoyTesting
import MessagePack
import Testing

struct RPCPeerCallTests {
    static func calculator(visibility: ServiceVisibility = .public) -> RPCService {
        RPCService(
            id: "calc", name: "Calculator", visibility: visibility,
            members: [
                "add": .function(
                    RPCFunction(name: "add") { call in
                        let a = call.argument(0, "a")?.intValue ?? 0
                        let b = call.argument(1, "b")?.intValue ?? 0
                        return .int(Int64(a + b))
                    }),
                "whoami": .function(RPCFunction(name: "whoami") { call in .string(call.context?.from ?? "local") }),
                "fail": .function(
                    RPCFunction(name: "fail") { _ in
                        throw RemoteError(message: "boom: bad input", traceback: "Traceback: line 1\nValueError")
                    }),
                "nested": ["inner": .function(RPCFunction(name: "inner") { _ in "deep" })],
                "version": "1.0",
            ])
    }

    @Test("a call with positional and keyword arguments returns the result", .timeLimit(.minutes(1)))
    func positionalAndKeyword() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let consumer = harness.makePeer("ws-b/consumer")
        await provider.peer.addService(Self.calculator())
        try await harness.with([provider, consumer]) { () async throws in
            let add = await consumer.peer.remoteFunction(target: "ws-a/provider", method: "services.calc.add")
            #expect(try await add.call([1], kwargs: ["b": 2]).intValue == 3)
            #expect(try await add(40, 2).intValue == 42)
            let whoami = await consumer.peer.remoteFunction(target: "ws-a/provider", method: "services.calc.whoami")
            #expect(try await whoami().stringValue == "ws-b/consumer")
        }
    }

    @Test("the built-in get_service returns descriptors that can be called", .timeLimit(.minutes(1)))
    func serviceDescriptors() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let consumer = harness.makePeer("ws-b/consumer")
        await provider.peer.addService(Self.calculator())
        try await harness.with([provider, consumer]) { () async throws in
            let service = try await consumer.peer.remoteService(of: "ws-a/provider", id: "calc")
            #expect(service["version"]?.stringValue == "1.0")
            #expect(service["name"]?.stringValue == "Calculator")
            let inner = try #require(service["nested"]?["inner"]?.functionValue)
            #expect(try await inner().stringValue == "deep")
            let add = try #require(service["add"]?.functionValue)
            #expect(try await add(2, 3).intValue == 5)
        }
    }

    @Test("an error thrown by a service reaches the caller with message and traceback", .timeLimit(.minutes(1)))
    func remoteErrors() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let consumer = harness.makePeer("ws-a/consumer")
        await provider.peer.addService(Self.calculator())
        try await harness.with([provider, consumer]) { () async throws in
            let fail = await consumer.peer.remoteFunction(target: "ws-a/provider", method: "services.calc.fail")
            let error = try await #require(throws: RemoteError.self) { try await fail() }
            #expect(error.message == "boom: bad input")
            #expect(error.traceback.contains("ValueError"))
            let missing = await consumer.peer.remoteFunction(target: "ws-a/provider", method: "services.calc.nope")
            let notFound = try await #require(throws: RemoteError.self) { try await missing() }
            #expect(notFound.message.contains("Method expired or not found"))
        }
    }

    @Test("a protected service refuses callers from other workspaces", .timeLimit(.minutes(1)))
    func protectedServices() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let neighbour = harness.makePeer("ws-a/neighbour")
        let stranger = harness.makePeer("ws-b/stranger")
        await provider.peer.addService(Self.calculator(visibility: .protected))
        try await harness.with([provider, neighbour, stranger]) { () async throws in
            let fromNeighbour = await neighbour.peer.remoteFunction(target: "ws-a/provider", method: "services.calc.add")
            #expect(try await fromNeighbour(1, 1).intValue == 2)
            let fromStranger = await stranger.peer.remoteFunction(target: "ws-a/provider", method: "services.calc.add")
            let error = try await #require(throws: RemoteError.self) { try await fromStranger(1, 1) }
            #expect(error.message.contains("Permission denied"))
            await #expect(throws: RemoteError.self) {
                try await stranger.peer.remoteService(of: "ws-a/provider", id: "calc")
            }
        }
    }

    @Test("a callback passed as an argument can be called 1000 times", .timeLimit(.minutes(1)))
    func callbacks() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let consumer = harness.makePeer("ws-b/consumer")
        await provider.peer.addService(
            RPCService(
                id: "loop", visibility: .public,
                members: [
                    "repeat": .function(
                        RPCFunction { call in
                            let callback = try #require(call.positional[0].functionValue)
                            let times = call.positional[1].intValue ?? 0
                            var total: Int64 = 0
                            for i in 0..<times { total += Int64(try await callback(.int(Int64(i))).intValue ?? 0) }
                            return .int(total)
                        })
                ]))
        let counter = Counter()
        try await harness.with([provider, consumer]) { () async throws in
            let repeatFunction = await consumer.peer.remoteFunction(target: "ws-a/provider", method: "services.loop.repeat")
            let callback = RPCFunction(name: "cb") { call in
                await counter.add(1)
                return .int(Int64((call.positional[0].intValue ?? 0) * 2))
            }
            let total = try await repeatFunction(.function(callback), 1000)
            #expect(total.intValue == 999 * 1000)
            #expect(await counter.value == 1000)
        }
    }

    @Test("an _rintf object is callable many times and can be disposed", .timeLimit(.minutes(1)))
    func interfaces() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let consumer = harness.makePeer("ws-b/consumer")
        await provider.peer.addService(
            RPCService(
                id: "host", visibility: .public,
                members: [
                    "use": .function(
                        RPCFunction { call in
                            let interface = try #require(call.positional[0].objectValue)
                            let step = try #require(interface["step"]?.functionValue)
                            var last = RPCValue.null
                            for _ in 0..<5 { last = try await step() }
                            _ = try await interface["_dispose"]?.functionValue?()
                            do {
                                _ = try await step()
                                return .string("still callable after dispose")
                            } catch {
                                return last
                            }
                        })
                ]))
        let counter = Counter()
        try await harness.with([provider, consumer]) { () async throws in
            let use = await consumer.peer.remoteFunction(target: "ws-a/provider", method: "services.host.use")
            let interface: RPCValue = [
                "_rintf": true, "label": "counter",
                "step": .function(
                    RPCFunction(name: "step") { _ in
                        await counter.add(1)
                        return .int(Int64(await counter.value))
                    }),
            ]
            #expect(try await use(interface).intValue == 5)
            #expect(await consumer.peer.serviceIDs.filter { $0.hasPrefix("_rintf_") }.isEmpty)
        }
    }

    @Test("generators are pulled item by item, local and remote", .timeLimit(.minutes(1)))
    func generators() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let consumer = harness.makePeer("ws-b/consumer")
        await provider.peer.addService(
            RPCService(
                id: "gen", visibility: .public,
                members: [
                    "count": .function(
                        RPCFunction { call in
                            let n = call.positional.first?.intValue ?? 0
                            return .generator(RPCGenerator((0..<n).map { .int(Int64($0)) }))
                        })
                ]))
        try await harness.with([provider, consumer]) { () async throws in
            let count = await consumer.peer.remoteFunction(target: "ws-a/provider", method: "services.gen.count")
            let returned = try await count(4)
            guard case .generator(let generator) = returned else {
                Issue.record("expected a generator")
                return
            }
            var items: [Int] = []
            for try await item in generator { items.append(item.intValue ?? -1) }
            #expect(items == [0, 1, 2, 3])
        }
    }

    @Test("64 calls in flight at once all get their own answer", .timeLimit(.minutes(1)))
    func concurrentCalls() async throws {
        let harness = PeerHarness()
        let provider = harness.makePeer("ws-a/provider")
        let consumer = harness.makePeer("ws-b/consumer")
        await provider.peer.addService(Self.calculator())
        try await harness.with([provider, consumer]) { () async throws in
            let add = await consumer.peer.remoteFunction(target: "ws-a/provider", method: "services.calc.add")
            let results = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for i in 0..<64 { group.addTask { (i, try await add(.int(Int64(i)), 1000).intValue ?? -1) } }
                return try await group.reduce(into: [Int: Int]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.count == 64)
            #expect(results.allSatisfy { $0.value == $0.key + 1000 })
        }
    }
}
