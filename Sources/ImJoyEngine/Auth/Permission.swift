/// Access to a workspace, as in Hypha's scopes: read, read-write, admin.
public enum Permission: String, Sendable, Comparable, CaseIterable {
    case read = "r"
    case readWrite = "rw"
    case admin = "a"

    /// Parses both the letters (`r`, `rw`, `a`) and the words `generate_token` accepts (`read`, `read_write`, `admin`).
    public init?(name: String) {
        switch name {
        case "r", "read": self = .read
        case "rw", "read_write", "readwrite": self = .readWrite
        case "a", "admin": self = .admin
        default: return nil
        }
    }

    private var rank: Int {
        switch self {
        case .read: return 0
        case .readWrite: return 1
        case .admin: return 2
        }
    }

    public static func < (lhs: Permission, rhs: Permission) -> Bool { lhs.rank < rhs.rank }

    /// The word `generate_token` uses for it: `read`, `read_write` or `admin`.
    public var name: String {
        switch self {
        case .read: return "read"
        case .readWrite: return "read_write"
        case .admin: return "admin"
        }
    }
}
