import SocketIOCore

/// What `fetchSockets` learns of a socket on this node or another (Node.js's serialized socket): its id,
/// handshake, rooms and `data` when fetched. The server wraps it in a `RemoteSocket`, whose operations
/// reach the socket wherever it is.
public struct FetchedSocket: Sendable, Hashable {
    /// The socket's id.
    public var id: String
    /// Its handshake, as JSON (`headers`, `time`, `address`, `xdomain`, `secure`, `issued`, `url`,
    /// `query`, `auth`).
    public var handshake: JSONValue
    /// Its rooms when fetched (its own included).
    public var rooms: Set<String>
    /// Its `data` when fetched.
    public var data: JSONValue

    /// Describes a socket.
    public init(id: String, handshake: JSONValue, rooms: Set<String>, data: JSONValue) {
        self.id = id
        self.handshake = handshake
        self.rooms = rooms
        self.data = data
    }
}
