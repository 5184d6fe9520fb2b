/// An exception raised by a remote peer: its message and its traceback (possibly empty).
public struct RemoteError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var traceback: String

    public init(message: String, traceback: String = "") {
        self.message = message
        self.traceback = traceback
    }

    /// The same text hypha-rpc shows: `RemoteError:<message>` followed by the traceback.
    public var description: String {
        traceback.isEmpty ? "RemoteError: \(message)" : "RemoteError: \(message)\n\(traceback)"
    }
}
