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
public import ImJoyRPC

/// What a machine offers plugins: CPUs, memory, GPUs (from `nvidia-smi` when it is installed) and Python.
public struct HostResources: Sendable {
    public struct GPU: Sendable {
        public var name: String
        public var memoryMiB: Int?
    }

    public var cpuCount: Int
    public var memoryBytes: UInt64
    public var gpus: [GPU]
    public var python: String?
    public var platform: String

    /// CPU count and memory now (no GPUs and no Python: those need ``measure(python:environment:)``).
    public static func current(python: String?) -> HostResources {
        HostResources(
            cpuCount: ProcessInfo.processInfo.activeProcessorCount, memoryBytes: ProcessInfo.processInfo.physicalMemory,
            gpus: [], python: python, platform: platformName)
    }

    /// Measures everything, running `nvidia-smi` and `python --version` (each bounded by a few seconds).
    public static func measure(python: String, environment: [String: String]) async -> HostResources {
        var resources = current(python: nil)
        let gpuQuery = await CommandRunner.run(
            CommandSpec(
                executable: "nvidia-smi", arguments: ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                environment: environment), keepAll: true)
        if gpuQuery.status.isSuccess {
            resources.gpus = gpuQuery.lines.compactMap(parseGPU)
        }
        let version = await CommandRunner.run(
            CommandSpec(executable: python, arguments: ["--version"], environment: environment), keepAll: true)
        if version.status.isSuccess, let line = version.lines.first(where: { $0.hasPrefix("Python ") }) {
            resources.python = String(line.dropFirst(7))
        }
        return resources
    }

    /// One line of `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`.
    static func parseGPU(_ line: String) -> GPU? {
        let fields = line.split(separator: ",").map { String($0.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed()) }
        guard let name = fields.first, !name.isEmpty else { return nil }
        return GPU(name: name, memoryMiB: fields.count > 1 ? Int(fields[1]) : nil)
    }

    static var platformName: String {
        #if os(Linux)
        return "linux"
        #elseif os(macOS)
        return "macos"
        #else
        return "unknown"
        #endif
    }

    /// The form `info()` of a host returns.
    public var rpcValue: RPCValue {
        .object([
            "cpu_count": .int(Int64(cpuCount)), "memory_bytes": .int(Int64(clamping: memoryBytes)),
            "gpus": .array(gpus.map { .object(["name": .string($0.name), "memory_mib": $0.memoryMiB.map { .int(Int64($0)) } ?? .null]) }),
            "python": python.map { .string($0) } ?? .null, "platform": .string(platform),
        ])
    }
}
