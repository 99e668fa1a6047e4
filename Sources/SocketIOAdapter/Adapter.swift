import SocketIOCore

/// Where a namespace's rooms live and how its broadcasts reach sockets: on this node only
/// (the server's `InMemoryAdapter`, the default) or across nodes (a Redis adapter). One adapter per
/// namespace.
///
/// The contract lives below the server (socketioxide's layering): an adapter reaches its namespace through
/// `AdapterNamespace` and this node's sockets through the `LocalAdapter` the namespace makes for it, so an
/// adapter module depends on `SocketIOAdapter` only.
///
/// Room membership calls come from the socket's event loop; broadcast and query calls from anywhere.
public protocol Adapter: AnyObject, Sendable {
    /// Adds the socket `id` to `rooms`.
    func addAll(_ id: String, rooms: Set<String>)
    /// Removes the socket `id` from `room`.
    func del(_ id: String, room: String)
    /// Removes the socket `id` from every room.
    func delAll(_ id: String)
    /// The rooms of the local socket `id`, if it is known.
    func socketRooms(_ id: String) -> Set<String>?
    /// Every room of this node and its members.
    var rooms: [String: Set<String>] { get }

    /// Sends `packet` to the sockets selected by `options`.
    func broadcast(_ packet: SocketPacket, options: BroadcastOptions)
    /// Sends `packet` to the sockets selected by `options`, each with an ack id; `clientCount` is called
    /// with the number of sockets reached (once per node), `ack` with every answer.
    func broadcastWithAck(
        _ packet: SocketPacket,
        options: BroadcastOptions,
        clientCount: @escaping @Sendable (Int) -> Void,
        ack: @escaping @Sendable ([JSONValue]) -> Void
    )
    /// The ids of the sockets in `rooms` (all sockets when empty).
    func sockets(in rooms: Set<String>) async throws -> Set<String>
    /// Descriptions of the sockets selected by `options`, on every node.
    func fetchSockets(_ options: BroadcastOptions) async throws -> [FetchedSocket]
    /// Makes the selected sockets join `rooms`.
    func addSockets(_ options: BroadcastOptions, rooms: Set<String>)
    /// Makes the selected sockets leave `rooms`.
    func delSockets(_ options: BroadcastOptions, rooms: Set<String>)
    /// Disconnects the selected sockets (closing their connections when `close`).
    func disconnectSockets(_ options: BroadcastOptions, close: Bool)
    /// Sends an event to the other nodes' namespace; with `timeout`, waits for their acknowledgements.
    func serverSideEmit(_ arguments: [JSONValue], timeout: TimeAmountMilliseconds?) async throws -> [JSONValue]

    /// Connection state recovery: keeps the session of a socket that disconnected for a reason that may
    /// be recovered, until the recovery window ends.
    func persistSession(_ session: PersistedSession)
    /// Connection state recovery: takes the session `pid` back, with every packet sent after `offset` that
    /// it would have received; nil when the session is unknown or expired, or `offset` is too old.
    func restoreSession(pid: String, offset: String) async throws -> RestoredSession?
}

extension Adapter {
    /// Keeps nothing: an adapter without a packet log cannot recover sessions.
    public func persistSession(_ session: PersistedSession) {}
    /// Recovers nothing.
    public func restoreSession(pid: String, offset: String) async throws -> RestoredSession? { nil }
}

/// A duration in milliseconds (what crosses the wire between nodes).
public typealias TimeAmountMilliseconds = Int64
