import SocketIOCore

/// What an adapter may ask of the namespace it serves (socketioxide's `SocketEmitter`): the server's
/// `Namespace` implements it, so that an adapter reaches this node's sockets without importing the server.
public protocol AdapterNamespace: AnyObject, Sendable {
    /// The namespace's name (`/`, `/admin`, ...).
    var name: String { get }
    /// The server's connection state recovery options; nil when it is off.
    var connectionStateRecovery: ConnectionStateRecovery? { get }
    /// Whether the socket `id` is connected to this node.
    func hasLocalSocket(withID id: String) -> Bool
    /// The adapter of this node's sockets (rooms, local delivery and, unless `keepsRecoveryLog` is false,
    /// the packets and sessions kept for connection state recovery), for a cluster adapter to wrap: it
    /// delivers to this node's sockets and publishes what the other nodes need.
    func makeLocalAdapter(keepsRecoveryLog: Bool) -> any LocalAdapter
    /// Hands an event another node sent with `serverSideEmit` to this namespace's listeners; `ack`, when
    /// the sender waits for answers, takes each listener's answer.
    func receiveServerSideEmit(_ arguments: [JSONValue], ack: (@Sendable ([JSONValue]) -> Void)?)
}
