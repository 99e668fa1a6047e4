import SocketIOCore

/// A recovered session: the socket's state, and the packets sent to its rooms after the client's offset,
/// in order, already encoded (each carrying its offset).
public struct RestoredSession: Sendable {
    /// The socket's state when it disconnected.
    public var session: PersistedSession
    /// The packets the client missed, in the order they were sent.
    public var missedPackets: [EncodedMessages]

    /// Creates a recovered session.
    public init(session: PersistedSession, missedPackets: [EncodedMessages]) {
        self.session = session
        self.missedPackets = missedPackets
    }
}
