/// Helpers for peer addresses `"<workspace>/<client_id>"` (the manager is `"*/<manager_id>"`).
public enum Address {
    /// The workspace part, or `""` when there is no `/`.
    public static func workspace(of address: String) -> String {
        guard let slash = address.utf8.firstIndex(of: UInt8(ascii: "/")) else { return "" }
        return String(address[..<slash])
    }

    /// The client part (everything after the first `/`), or the whole string when there is no `/`.
    public static func client(of address: String) -> String {
        guard let slash = address.utf8.firstIndex(of: UInt8(ascii: "/")) else { return address }
        return String(address[address.index(after: slash)...])
    }

    /// Makes `address` absolute by prefixing `workspace` when it has no `/`.
    public static func absolute(_ address: String, in workspace: String) -> String {
        address.utf8.contains(UInt8(ascii: "/")) ? address : "\(workspace)/\(address)"
    }
}
