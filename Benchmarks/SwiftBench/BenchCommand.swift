import ArgumentParser
import Foundation
import ImJoyClient
import ImJoyCore
import ImJoyRPC

/// Benchmarks that need a Swift client: Swift ⇄ Swift echo through the engine, and idle-client memory.
/// Each prints one JSON object on stdout.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imjoy-bench", abstract: "Swift-client benchmarks against a running engine.",
        subcommands: [EchoBench.self, IdleBench.self, ParseBench.self, ListBench.self, PeerBench.self])
}

/// CPU seconds (user + system) a process has used, from /proc/PID/stat.
func cpuSeconds(pid: Int32) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Resident memory of a process in KiB, from /proc/PID/status.
func residentKiB(pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
    return nil
}

func printJSON(_ object: [String: Any]) {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
    print(String(decoding: data, as: UTF8.self))
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

struct EchoBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo", abstract: "A Swift client calls a Swift client's echo service through the engine.")

    @Option var serverURL: String
    @Option(help: "Server process id, for its CPU time.") var serverPID: Int32?
    @Option var calls = 20_000
    @Option var inflight = 64

    func run() async throws {
        let (serverURL, calls, inflight, serverPID) = (serverURL, calls, inflight, serverPID)
        let result = try await ImJoyClient.withConnection(to: serverURL) { provider in
            try await provider.registerService(
                RPCService(
                    id: "echo", visibility: .public,
                    members: ["echo": .function(RPCFunction(name: "echo") { call in call.positional.first ?? .null })]))
            return try await ImJoyClient.withConnection(to: serverURL) { consumer in
                guard let echo = try await consumer.getService("\(provider.workspace)/echo")["echo"]?.functionValue else {
                    throw ValidationError("the echo service has no echo function")
                }
                for _ in 0..<500 { _ = try await echo("warm-up") }
                let clock = ContinuousClock()
                var latencies: [Double] = []
                latencies.reserveCapacity(calls)
                let cpu0 = serverPID.flatMap(cpuSeconds)
                let start = clock.now
                for _ in 0..<calls {
                    let t0 = clock.now
                    _ = try await echo("hello-imjoy-bench")
                    let elapsed = clock.now - t0
                    latencies.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
                }
                let sequential = clock.now - start
                let cpu1 = serverPID.flatMap(cpuSeconds)
                let concurrentStart = clock.now
                try await withThrowingTaskGroup(of: Void.self) { group in
                    let perWorker = calls / inflight
                    for _ in 0..<inflight {
                        group.addTask { for _ in 0..<perWorker { _ = try await echo("hello-imjoy-bench") } }
                    }
                    try await group.waitForAll()
                }
                let concurrent = clock.now - concurrentStart
                let cpu2 = serverPID.flatMap(cpuSeconds)
                latencies.sort()
                let seconds = { (d: Duration) in Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
                let concurrentCalls = Double((calls / inflight) * inflight)
                var out: [String: Any] = [
                    "calls": calls, "inflight": inflight,
                    "p50_us": percentile(latencies, 0.5), "p99_us": percentile(latencies, 0.99),
                    "sequential_calls_per_s": Double(calls) / seconds(sequential),
                    "inflight_calls_per_s": concurrentCalls / seconds(concurrent),
                ]
                if let cpu0, let cpu1, let cpu2 {
                    out["server_cpu_us_per_call_sequential"] = (cpu1 - cpu0) / Double(calls) * 1e6
                    out["server_cpu_us_per_call_inflight"] = (cpu2 - cpu1) / concurrentCalls * 1e6
                }
                return out.mapValues { "\($0)" }
            }
        }
        printJSON(result.mapValues { Double($0) ?? $0 as Any })
    }
}

struct IdleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "idle", abstract: "Connects many idle clients and reports the server's memory per client.")

    @Option var serverURL: String
    @Option var serverPID: Int32
    @Option var clients = 10_000
    @Option(help: "Connections opened at once.") var parallel = 100

    func run() async throws {
        let (serverURL, serverPID, clients, parallel) = (serverURL, serverPID, clients, parallel)
        try await Task.sleep(for: .seconds(1))
        let before = residentKiB(pid: serverPID) ?? 0
        let (outcomes, report) = AsyncStream<Bool>.makeStream()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var iterator = outcomes.makeAsyncIterator()
            var started = 0
            var connected = 0
            while started < clients {
                let batch = min(parallel, clients - started)
                for index in started..<(started + batch) {
                    group.addTask {
                        do {
                            try await ImJoyClient.withConnection(
                                to: serverURL, options: ConnectionOptions(clientID: "idle-\(index)")
                            ) { _ in
                                report.yield(true)
                                try await Task.sleep(for: .seconds(3600))
                            }
                        } catch {
                            report.yield(false)
                        }
                    }
                }
                started += batch
                for _ in 0..<batch where await iterator.next() == true { connected += 1 }
            }
            let elapsed = ContinuousClock.now - start
            try await Task.sleep(for: .seconds(2))
            let after = residentKiB(pid: serverPID) ?? 0
            printJSON([
                "clients": clients, "connected": connected, "rss_before_kib": before, "rss_with_clients_kib": after,
                "rss_per_client_kib": Double(after - before) / Double(max(connected, 1)),
                "connect_seconds": Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
            ])
            group.cancelAll()
        }
    }
}

struct ParseBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse", abstract: "Parses plugin files (the valid fixtures, cycled) and reports the time per file.")

    @Option(help: "A folder of .imjoy.html files to cycle through.") var fixtures: String
    @Option var files = 1000

    func run() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures).filter { $0.hasSuffix(".imjoy.html") }.sorted()
        let texts = try names.map { try String(contentsOfFile: fixtures + "/" + $0, encoding: .utf8) }
        var sources: [String] = []
        for i in 0..<files {
            let text = texts[i % texts.count]
            sources.append(text.replacingOccurrences(of: "\"name\": \"", with: "\"name\": \"\(i) "))
        }
        for source in sources.prefix(50) { _ = try? PluginLoader.load(source, file: "warmup.imjoy.html") }
        let clock = ContinuousClock()
        var ok = 0
        let start = clock.now
        for (i, source) in sources.enumerated() where (try? PluginLoader.load(source, file: "p\(i).imjoy.html")) != nil {
            ok += 1
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        printJSON([
            "files": files, "parsed_ok": ok, "total_ms": seconds * 1000, "ms_per_file": seconds * 1000 / Double(files),
            "average_file_bytes": sources.reduce(0) { $0 + $1.utf8.count } / max(files, 1),
        ])
    }
}
