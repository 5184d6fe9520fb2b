#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ImJoyRPC

/// The manager peer's transport: its frames go straight to the router, in process.
struct ManagerTransport: RPCTransport {
    let router: MessageRouter

    func send(_ frame: Data) async throws {
        router.routeFromManager(frame)
    }
}
