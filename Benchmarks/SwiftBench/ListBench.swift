import ArgumentParser
import ImJoyClient
import ImJoyRPC

/// `list_services` as the engine answers it, without the Python client's decoding on top: many clients in one
/// workspace each register a small service (the shape rpc_bench.py's `many` scenario uses), and one client
/// times the listing, compact (the default) and with `include_schema`.
struct ListBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Times list_services with many clients, each with a service, in one workspace.")

    @Option var serverURL: String
    @Option var clients = 200
    @Option var repeats = 50

    func run() async throws {
        let (serverURL, clients, repeats) = (serverURL, clients, repeats)
        let result = try await ImJoyClient.withConnection(to: serverURL) { owner in
            let token = try await owner.generateToken()
            let workspace = owner.workspace
            return try await withThrowingTaskGroup(of: Void.self, returning: [String: Double].self) { group in
                let (registered, report) = AsyncStream<Bool>.makeStream()
                var outcomes = registered.makeAsyncIterator()
                var connected = 0
                for index in 0..<clients {
                    group.addTask {
                        let options = ConnectionOptions(clientID: "lister-\(index)", workspace: workspace, token: token)
                        do {
                            try await ImJoyClient.withConnection(to: serverURL, options: options) { client in
                                _ = try await client.registerService(Self.service(index))
                                report.yield(true)
                                try await Task.sleep(for: .seconds(3600))
                            }
                        } catch {
                            report.yield(false)
                        }
                    }
                    // A few at a time: the point is the listing, not a connection storm.
                    if index % 20 == 19 || index == clients - 1 {
                        while connected < index + 1, let ok = await outcomes.next() {
                            guard ok else { throw ValidationError("a client could not connect or register") }
                            connected += 1
                        }
                    }
                }
                var out: [String: Double] = ["clients": Double(connected)]
                for (name, query) in [("compact", RPCValue.null), ("with_schema", ["include_schema": true])] {
                    var times: [Double] = []
                    var listed = 0
                    for _ in 0..<repeats {
                        let start = ContinuousClock.now
                        // Hypha refuses query keys it does not know (include_schema): it always lists whole infos.
                        guard let services = try? await owner.listServices(query) else { break }
                        listed = services.count
                        let elapsed = ContinuousClock.now - start
                        times.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
                    }
                    guard !times.isEmpty else { continue }
                    times.sort()
                    out["\(name)_median_ms"] = percentile(times, 0.5)
                    out["\(name)_p99_ms"] = percentile(times, 0.99)
                    out["services_listed"] = Double(listed)
                }
                group.cancelAll()
                return out
            }
        }
        printJSON(result)
    }

    /// `echo` and `whoami`, as rpc_bench.py's `many` scenario registers them.
    static func service(_ index: Int) -> RPCService {
        RPCService(
            id: "bench-svc-\(index)", name: "hypha bench echo", visibility: .public,
            members: [
                "echo": .function(RPCFunction(name: "echo") { call in call.positional.first ?? .null }),
                "whoami": .function(RPCFunction(name: "whoami") { _ in .int(Int64(index)) }),
            ])
    }
}
