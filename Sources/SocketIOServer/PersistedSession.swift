import SocketIOCore

/// What connection state recovery keeps of a socket that disconnected (Socket.IO's `SessionToPersist`):
/// its id, its private session id, its rooms and its data.
public struct PersistedSession: Sendable, Hashable {
    /// The socket id, given back to the recovered socket.
    public var sid: String
    /// The private session id the client presents to recover (never shared with other clients).
    public var pid: String
    /// The rooms the socket was in (its own included).
    public var rooms: Set<String>
    /// The socket's `data`.
    public var data: JSONValue

    /// Creates a session.
    public init(sid: String, pid: String, rooms: Set<String>, data: JSONValue) {
        self.sid = sid
        self.pid = pid
        self.rooms = rooms
        self.data = data
    }
}

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
