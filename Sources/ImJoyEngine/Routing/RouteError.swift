/// Why a frame from a client was not delivered. The engine reports it to the sender: as a reject of the
/// sender's session when the frame had one, else as an error text frame.
public struct RouteError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The sender's session, when the frame could be parsed far enough to find it.
    public var session: String?
    /// The frame's target, when known (the reject appears to come from it).
    public var target: String?

    public init(_ message: String, session: String? = nil, target: String? = nil) {
        self.message = message
        self.session = session
        self.target = target
    }

    public var description: String { message }
}
