import EngineIOServer

/// Why a socket was disconnected, named as Socket.IO names it.
public struct DisconnectReason: Hashable, Sendable, CustomStringConvertible {
    /// The reason's name (`"client namespace disconnect"`, `"transport close"`, ...).
    public let name: String

    /// A reason with this name.
    public init(_ name: String) { self.name = name }

    /// The server called `socket.disconnect()`.
    public static let serverNamespaceDisconnect = DisconnectReason("server namespace disconnect")
    /// The client called `socket.disconnect()` (a DISCONNECT packet).
    public static let clientNamespaceDisconnect = DisconnectReason("client namespace disconnect")
    /// The server is shutting down.
    public static let serverShuttingDown = DisconnectReason("server shutting down")
    /// The client did not answer a ping in time.
    public static let pingTimeout = DisconnectReason("ping timeout")
    /// The connection was closed by the client or lost.
    public static let transportClose = DisconnectReason("transport close")
    /// The connection failed.
    public static let transportError = DisconnectReason("transport error")
    /// The client sent a packet that could not be read.
    public static let parseError = DisconnectReason("parse error")
    /// The server closed the underlying connection.
    public static let forcedServerClose = DisconnectReason("forced server close")
    /// The underlying connection was closed by the server.
    public static let forcedClose = DisconnectReason("forced close")

    /// The client read too slowly (more than `maxBufferedBytes` waited, or it took nothing for flow
    /// control's `stallTimeout` while publishers waited for it).
    public static let sendBufferFull = DisconnectReason("send buffer full")

    /// Whether connection state recovery keeps the socket's session: the connection was lost or closed by
    /// the server, not left by the client's or the server's own `disconnect()` (Node.js's list, plus
    /// `send buffer full`: a client cut for reading too slowly may come back for what it missed).
    public var isRecoverable: Bool {
        switch self {
        case .transportError, .transportClose, .forcedClose, .pingTimeout, .serverShuttingDown, .forcedServerClose, .sendBufferFull:
            return true
        default:
            return false
        }
    }

    init(engine reason: EngineCloseReason) {
        self.name = reason.name
    }

    /// The reason as Socket.IO names it (`transport close`, `ping timeout`, ...).
    public var description: String { self.name }
}
