#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import MessagePack

/// A service registered with the manager: where it lives, who may see it, and the info its provider sent.
public struct ServiceEntry: Sendable {
    /// `"<workspace>/<client>:<service>"`.
    public var id: String
    public var workspace: String
    public var clientID: String
    public var serviceID: String
    public var appID: String
    public var type: String
    public var visibility: String
    public var authorizedWorkspaces: [String]
    /// The stored info, as `list_services` and `get_service_info` return it, kept encoded: it is only ever
    /// sent back out, and a few kilobytes of bytes cost far less memory than a decoded tree.
    public var encodedInfo: Data

    /// The stored info without its `service_schema`, as `list_services` returns it by default: a listing
    /// is for finding services, and the schema (most of an info's nested maps) is what a client spends
    /// most of its decoding time on. `get_service_info` and `include_schema` give the whole info.
    public var encodedSummary: Data

    /// The stored info as a value to send.
    public var info: MessagePackValue { .raw(encodedInfo) }
    /// The stored info without `service_schema`, as a value to send.
    public var summary: MessagePackValue { .raw(encodedSummary) }
    /// Serial of the connection that registered it (a reconnection's cleanup must not remove its successor's).
    public var connection: UInt64

    /// `"<workspace>/<client>"`.
    public var providerAddress: String { "\(workspace)/\(clientID)" }

    /// Builds an entry from `register_service`'s argument, or explains why it is invalid.
    static func parse(_ info: MessagePackMap, createdBy userID: String, connection: UInt64) throws(ManagerError)
        -> ServiceEntry
    {
        guard let id = info["id"]?.stringValue else {
            throw ManagerError("register_service needs a service info map with a string `id`")
        }
        guard let slash = id.firstIndex(of: "/"), let colon = id.firstIndex(of: ":"), slash < colon else {
            throw ManagerError("Invalid service id '\(id)': expected '<workspace>/<client_id>:<service_id>'")
        }
        let workspace = String(id[..<slash])
        let clientID = String(id[id.index(after: slash)..<colon])
        var serviceID = String(id[id.index(after: colon)...])
        var appID = info["app_id"]?.stringValue ?? "*"
        if let at = serviceID.firstIndex(of: "@") {
            appID = String(serviceID[serviceID.index(after: at)...])
            serviceID = String(serviceID[..<at])
        }
        var config = info["config"]?.mapValue ?? MessagePackMap()
        let visibility = config["visibility"]?.stringValue ?? "protected"
        guard ["public", "protected", "unlisted"].contains(visibility) else {
            throw ManagerError("Invalid visibility '\(visibility)' for service \(id): use public, protected or unlisted")
        }
        config["visibility"] = .string(visibility)
        config["workspace"] = .string(workspace)
        config["created_by"] = ["id": .string(userID)]
        var stored = info
        stored["config"] = .map(config)
        stored["id"] = .string("\(workspace)/\(clientID):\(serviceID)")
        stored["app_id"] = .string(appID)
        let encoded = MessagePackEncoder.encode(.map(stored))
        var summary = stored
        summary["service_schema"] = nil
        return ServiceEntry(
            id: "\(workspace)/\(clientID):\(serviceID)", workspace: workspace, clientID: clientID, serviceID: serviceID,
            appID: appID, type: info["type"]?.stringValue ?? "generic", visibility: visibility,
            authorizedWorkspaces: config["authorized_workspaces"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            encodedInfo: encoded,
            // Data is copy-on-write: an info without a schema shares its bytes instead of encoding them twice.
            encodedSummary: summary.count == stored.count ? encoded : MessagePackEncoder.encode(.map(summary)),
            connection: connection)
    }

    /// Whether a caller in `callerWorkspace` with `permission` there may see and use this service.
    func isVisible(toWorkspace callerWorkspace: String, userPermission: Permission?) -> Bool {
        if visibility != "protected" { return true }
        if callerWorkspace == workspace || userPermission != nil { return true }
        return authorizedWorkspaces.contains(callerWorkspace)
    }
}

/// An error the manager sends back to a caller; `message` says what went wrong and what to do.
public struct ManagerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
