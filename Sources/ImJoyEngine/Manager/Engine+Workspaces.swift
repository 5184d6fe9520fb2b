import Logging

extension Engine {
    /// Deletes a persistent workspace: stops its plugins, disconnects its clients and removes its data.
    func deleteWorkspace(_ name: String) async throws {
        await pluginSupervisor?.stopAll(in: name, reason: "its workspace was deleted")
        for connection in table.connections(in: name) {
            connection.sink.close(code: 1000, reason: "Workspace \(name) was deleted")
        }
        try await store.deleteWorkspace(name)
        await workspaces.remove(name)
        logger.info("Workspace deleted", metadata: ["workspace.id": "\(name)"])
    }

    /// Closes every connection admitted by token `id` (it was revoked); returns how many.
    func disconnectHolders(ofToken id: String) -> Int {
        let holders = table.all.filter { $0.user.tokenID == id }
        for connection in holders {
            connection.sink.close(code: 1008, reason: "The token this connection used was revoked")
        }
        return holders.count
    }
}
