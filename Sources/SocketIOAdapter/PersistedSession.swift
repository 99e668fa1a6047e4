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
