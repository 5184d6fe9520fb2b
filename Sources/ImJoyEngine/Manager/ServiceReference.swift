import ImJoyRPC
import MessagePack

/// A service id as clients write it (PROTOCOL.md §4.4): `"<ws>/<client>:<svc>"`, `"<ws>/<svc>"`,
/// `"<client>:<svc>"` or `"<svc>"`, each with an optional `"@<app_id>"`.
struct ServiceReference: Equatable {
    var workspace: String
    /// `nil` means any client.
    var clientID: String?
    var serviceID: String
    var appID: String?

    init(workspace: String, clientID: String?, serviceID: String, appID: String?) {
        self.workspace = workspace
        self.clientID = clientID
        self.serviceID = serviceID
        self.appID = appID
    }

    init(_ raw: String, callerWorkspace: String) throws(ManagerError) {
        var rest = Substring(raw)
        if let at = rest.firstIndex(of: "@") {
            appID = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
        }
        if let slash = rest.firstIndex(of: "/") {
            workspace = String(rest[..<slash])
            rest = rest[rest.index(after: slash)...]
        } else {
            workspace = callerWorkspace
        }
        if let colon = rest.firstIndex(of: ":") {
            clientID = String(rest[..<colon])
            rest = rest[rest.index(after: colon)...]
        }
        serviceID = String(rest)
        if workspace.isEmpty || serviceID.isEmpty || serviceID.contains("/") || serviceID.contains(":")
            || clientID?.isEmpty == true
        {
            throw ManagerError(
                "Invalid service id '\(raw)': use '<service>', '<client>:<service>', '<workspace>/<service>' "
                    + "or '<workspace>/<client>:<service>'")
        }
        if clientID == "*" { clientID = nil }
    }
}

/// The filter of `list_services`: a string like a service reference, or a map with
/// `workspace`, `client_id`, `service_id` (or `id`), `type`, `visibility`, `app_id`, and `include_schema`
/// (list whole infos, `service_schema` included, instead of the compact default).
struct ServiceQuery {
    /// `nil` = public services of every workspace (`"*"`).
    var workspace: String?
    var clientID: String?
    var serviceID: String?
    var appID: String?
    var type: String?
    var visibility: String?
    var includeSchema = false

    init(_ value: RPCValue?, callerWorkspace: String) throws(ManagerError) {
        workspace = callerWorkspace
        switch value {
        case nil, .null?:
            break
        case .string(let s)?:
            if s == "*" {
                workspace = nil
            } else if !s.contains("/") && !s.contains(":") {
                workspace = s
            } else {
                let reference = try ServiceReference(s.hasSuffix("/") ? s + "*" : s, callerWorkspace: callerWorkspace)
                workspace = reference.workspace == "*" ? nil : reference.workspace
                clientID = reference.clientID
                serviceID = reference.serviceID == "*" ? nil : reference.serviceID
                appID = reference.appID
            }
        case .object(let map)?:
            if let ws = map["workspace"]?.stringValue { workspace = ws == "*" ? nil : ws }
            clientID = map["client_id"]?.stringValue
            serviceID = map["service_id"]?.stringValue ?? map["id"]?.stringValue
            appID = map["app_id"]?.stringValue
            type = map["type"]?.stringValue
            visibility = map["visibility"]?.stringValue
            includeSchema = map["include_schema"]?.boolValue ?? false
        default:
            throw ManagerError("list_services takes a query string or map, e.g. {\"workspace\": \"ws-…\", \"type\": \"generic\"}")
        }
    }
}
