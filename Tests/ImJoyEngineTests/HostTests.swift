import Foundation
@testable import ImJoyEngine
import ImJoyRPC
import MessagePack
import NIOCore
import Testing

/// Plugin hosts (workers), worker tokens at the router, and answers too large to forward.
struct HostTests {
    @Test("a plugin on a host that went offline is unreachable with a 'Host offline' reason; online hosts give none")
    func offlineReason() {
        let hosts = HostDirectory()
        hosts.hostRegistered(name: "gpu-box", workspace: "lab", address: "lab/worker-gpu-box", serviceID: "plugin-host")
        hosts.place(
            .init(
                pluginName: "Segmenter", pluginAddress: "lab/plugin-seg", hostName: "gpu-box", workspace: "lab",
                ownerAddress: "lab/owner", allowsDetach: false))
        #expect(hosts.offlineReason(for: "lab/plugin-seg") == nil)
        let gone = hosts.connectionLeft("lab/worker-gpu-box")
        #expect(gone.map(\.name) == ["gpu-box"])
        let reason = hosts.offlineReason(for: "lab/plugin-seg")
        #expect(reason?.hasPrefix("Host offline: plugin 'Segmenter' runs on host 'gpu-box'") == true)
        #expect(hosts.offlineReason(for: "lab/worker-gpu-box")?.hasPrefix("Host offline: 'gpu-box'") == true)
        #expect(hosts.offlineReason(for: "lab/someone-else") == nil)
        hosts.hostRegistered(name: "gpu-box", workspace: "lab", address: "lab/worker-gpu-box", serviceID: "plugin-host")
        #expect(hosts.offlineReason(for: "lab/plugin-seg") == nil, "back online")
        #expect(hosts.placements(onHost: "gpu-box", in: "lab").map(\.pluginName) == ["Segmenter"])
        #expect(hosts.placements(in: "other").isEmpty)
    }

    @Test("nvidia-smi lines become GPUs; blank lines are skipped")
    func gpuLines() {
        let gpu = HostResources.parseGPU("NVIDIA RTX A6000, 49140")
        #expect(gpu?.name == "NVIDIA RTX A6000" && gpu?.memoryMiB == 49140)
        #expect(HostResources.parseGPU("Tesla T4")?.name == "Tesla T4")
        #expect(HostResources.parseGPU("Tesla T4")?.memoryMiB == nil)
        #expect(HostResources.parseGPU("") == nil)
    }

    @Test("a worker token's connection reaches only the manager", .timeLimit(.minutes(1)))
    func workerTokenRouting() async throws {
        let harness = try await EngineHarness.make()
        try await harness.run {
            let (token, _) = try await harness.engine.tokens.issueWorkerToken(
                workspace: "default", lifetime: .seconds(600), label: "test", issuer: .root, store: harness.engine.store)
            let sink = RecordingSink()
            let (worker, _) = try await harness.engine.connect(
                authFrame: EngineHarness.authFrame("worker-1", workspace: "default", token: token), sink: sink)
            #expect(worker.isPluginHostOnly)
            let (other, _) = try await RouterTests.raw(harness.engine, "other")
            let frame = RouterTests.frame(["type": "method", "to": .string(other.address), "method": "services.a.b"])
            let error = #expect(throws: RouteError.self) { try harness.engine.router.route(frame, from: worker) }
            #expect(error?.message.contains("a worker token only registers plugin hosts and answers the engine") == true)
        }
    }

    @Test("an answer over the forwarding limit is refused and its caller is told at once", .timeLimit(.minutes(1)))
    func oversizedAnswer() async throws {
        let harness = try await EngineHarness.make { $0.maxForwardedFrameSize = 10_000 }
        try await harness.run {
            let (provider, _) = try await RouterTests.raw(harness.engine, "provider")
            let (caller, inbox) = try await RouterTests.raw(harness.engine, "caller")
            let frame = RouterTests.frame(
                ["type": "method", "to": .string(caller.address), "method": "abc123.resolve"],
                ["args": [.binary(Data(repeating: 1, count: 20_000))]])
            #expect(throws: RouteError.self) { try harness.engine.router.route(frame, from: provider) }
            var frames = await RouterTests.frames(inbox)
            guard case .binary(let header, let body)? = await frames.next() else {
                Issue.record("the caller got nothing")
                return
            }
            var bytes = Data(header.readableBytesView)
            bytes.append(Data(body.readableBytesView))
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(text.contains("abc123.reject"))
            #expect(text.contains("The answer from \(provider.address) was") && text.contains("over the 10000-byte limit"))
        }
    }
}
