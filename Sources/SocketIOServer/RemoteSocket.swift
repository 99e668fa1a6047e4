import SocketIOAdapter
import SocketIOCore

/// A socket returned by `fetchSockets`: a description (id, handshake, rooms, data) of a socket on this node
/// or another, with operations that reach it wherever it is.
public struct RemoteSocket: Sendable {
    /// The socket's id.
    public let id: String
    /// Its handshake, as JSON.
    public let handshake: JSONValue
    /// Its rooms when fetched.
    public let rooms: Set<String>
    /// Its `data` when fetched.
    public let data: JSONValue
    /// The namespace it belongs to.
    public let namespace: Namespace

    /// Describes a socket.
    public init(id: String, handshake: JSONValue, rooms: Set<String>, data: JSONValue, namespace: Namespace) {
        self.id = id
        self.handshake = handshake
        self.rooms = rooms
        self.data = data
        self.namespace = namespace
    }

    /// The socket `fetched` describes, in `namespace`.
    public init(_ fetched: FetchedSocket, namespace: Namespace) {
        self.init(id: fetched.id, handshake: fetched.handshake, rooms: fetched.rooms, data: fetched.data, namespace: namespace)
    }

    /// Emits an event to this socket.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        self.namespace.to(self.id).emit(event, arguments: arguments)
    }

    /// Makes the socket join `rooms`.
    public func join(_ rooms: String...) {
        self.namespace.in(self.id).socketsJoin(Set(rooms))
    }

    /// Makes the socket leave `room`.
    public func leave(_ room: String) {
        self.namespace.in(self.id).socketsLeave([room])
    }

    /// Disconnects the socket.
    public func disconnect(close: Bool = false) {
        self.namespace.in(self.id).disconnectSockets(close: close)
    }
}
