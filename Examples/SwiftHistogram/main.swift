// A Swift program as an ImJoy plugin: it connects to an engine with ImJoyClient and offers "Swift Histogram", an
// op with a `ui` form and a `run(ctx)` like any plugin's, until it is stopped (Ctrl-C). Workflows name it as a
// step ({"plugin": "Swift Histogram"}), `imjoy run` and other plugins call it (`api.run("Swift Histogram", ctx)`).
//
//   swift run swift-histogram --server http://127.0.0.1:9527 --token "$(cat ~/.imjoy/admin-token)"
import ArgumentParser
import Foundation
import ImJoyClient
import ImJoyRPC

@main
struct SwiftHistogram: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swift-histogram", abstract: "Offer the \"Swift Histogram\" op to an ImJoy engine until stopped.")

    @Option(help: "The engine's URL.") var server = "http://127.0.0.1:9527"
    @Option(parsing: .unconditional, help: "A token for the workspace (e.g. the admin token, or one from `imjoy token`).") var token: String?
    @Option(help: "The workspace to join.") var workspace = "default"

    func run() async throws {
        let options = ConnectionOptions(clientID: "swift-histogram", workspace: workspace, token: token)
        try await ImJoyClient.withConnection(to: server, options: options) { client in
            try await client.registerService(Self.service)
            // A line tools can wait for; then serve until the process is stopped.
            FileHandle.standardOutput.write(Data("Swift Histogram is ready in workspace \(client.workspace)\n".utf8))
            while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
        }
    }

    /// The op: like a plugin's API, it has a name, a `ui` form and `run(ctx)`.
    static let service = RPCService(
        id: "Swift_Histogram", name: "Swift Histogram", type: "operator", visibility: .protected,
        members: [
            "name": "Swift Histogram",
            "type": "operator",
            "ui": "bins {id: 'bins', type: 'number', min: 1, placeholder: 16}",
            "run": .function(RPCFunction(name: "run") { call in try histogram(call.argument(0, "ctx") ?? .null) }),
        ])

    /// `ctx.data.image` (any numeric ndarray) binned into `ctx.config.bins` equal bins between its minimum and
    /// maximum; the other keys of `ctx.data` pass through.
    static func histogram(_ ctx: RPCValue) throws -> RPCValue {
        guard let image = ctx["data"]?["image"]?.ndarrayValue, let values = doubles(image), !values.isEmpty else {
            throw RemoteError(message: "Swift Histogram needs a numeric image in ctx.data['image'] (run Image Reader first)")
        }
        let bins = max(1, min(4096, ctx["config"]?["bins"]?.intValue ?? 16))
        let low = values.min() ?? 0
        let high = values.max() ?? 0
        var counts = [Int64](repeating: 0, count: bins)
        let width = (high - low) / Double(bins)
        for value in values {
            let index = width > 0 ? min(bins - 1, Int((value - low) / width)) : 0
            counts[index] += 1
        }
        var result = RPCObject()
        for (key, value) in ctx["data"]?.objectValue ?? RPCObject() where key != "image" && key != "mask" {
            result[key] = value
        }
        result["histogram"] = .array(counts.map { .int($0) })
        result["bins"] = .int(Int64(bins))
        result["minimum"] = .double(low)
        result["maximum"] = .double(high)
        result["mean"] = .double(values.reduce(0, +) / Double(values.count))
        return .object(result)
    }

    static func doubles(_ array: NDArray) -> [Double]? {
        switch NDArray.normalised(array.dtype) {
        case "uint8": return array.values(as: UInt8.self)?.map(Double.init)
        case "uint16": return array.values(as: UInt16.self)?.map(Double.init)
        case "int16": return array.values(as: Int16.self)?.map(Double.init)
        case "int32": return array.values(as: Int32.self)?.map(Double.init)
        case "float32": return array.values(as: Float.self)?.map(Double.init)
        case "float64": return array.values(as: Double.self)
        default: return nil
        }
    }
}
