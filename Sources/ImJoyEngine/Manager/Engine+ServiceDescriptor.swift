import ImJoyRPC
import MessagePack

extension Engine {
    /// Asks a service's provider for its descriptor (functions to call), with absolute targets and the
    /// registry's id, workspace and URL filled in: what `get_service` returns.
    func serviceDescriptor(of entry: ServiceEntry, timeout: Duration? = nil) async throws -> MessagePackValue {
        let provider = entry.providerAddress
        let raw: MessagePackValue
        do {
            raw = try await managerPeer.callRaw(
                target: provider, method: "services.built-in.get_service", arguments: [.string(entry.serviceID)],
                timeout: timeout ?? configuration.serviceFetchTimeout)
        } catch let error as RemoteError {
            throw ManagerError("Failed to get service \(entry.id) from its provider: \(error.message)")
        } catch let error as RPCError {
            throw ManagerError("Failed to get service \(entry.id): \(error.message)")
        }
        guard case .map(var service) = ManagerService.absoluteTargets(raw, provider: provider) else {
            throw ManagerError("The provider of \(entry.id) returned something that is not a service")
        }
        service["id"] = .string(entry.id)
        var config = service["config"]?.mapValue ?? MessagePackMap()
        config["workspace"] = .string(entry.workspace)
        config["url"] = .string("\(publicBaseURL)/\(entry.workspace)/services/\(entry.clientID):\(entry.serviceID)")
        service["config"] = .map(config)
        return .map(service)
    }
}
