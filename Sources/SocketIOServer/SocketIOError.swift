/// Errors of the Socket.IO server API.
public struct SocketIOError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Reason: Hashable, Sendable {
        case ackTimeout
        case disconnected
        case encoding(String)
        case noAdapterSupport(String)
    }

    private let reason: Reason

    /// No acknowledgement arrived within the timeout (`"operation has timed out"` in Socket.IO).
    public static let ackTimeout = SocketIOError(reason: .ackTimeout)
    /// The socket disconnected before the acknowledgement arrived.
    public static let disconnected = SocketIOError(reason: .disconnected)
    /// A value could not be turned into JSON.
    public static func encoding(_ detail: String) -> SocketIOError { SocketIOError(reason: .encoding(detail)) }
    /// The adapter does not support the operation.
    public static func unsupported(_ operation: String) -> SocketIOError { SocketIOError(reason: .noAdapterSupport(operation)) }

    /// The error as Socket.IO words it (`operation has timed out`, ...).
    public var description: String {
        switch self.reason {
        case .ackTimeout: return "operation has timed out"
        case .disconnected: return "socket has been disconnected"
        case .encoding(let detail): return "cannot encode value: \(detail)"
        case .noAdapterSupport(let operation): return "the adapter does not support \(operation)"
        }
    }
}

/// Thrown by a middleware to refuse a connection: the client receives a CONNECT_ERROR packet carrying
/// `message` and `data` (`socket.io-client` exposes them as `err.message` and `err.data`).
public struct ConnectionRefused: Error, Sendable, CustomStringConvertible {
    /// The message the client sees.
    public var message: String
    /// Extra data the client sees.
    public var data: JSONValue?

    /// Refuses with `message` and optional `data`.
    public init(_ message: String, data: JSONValue? = nil) {
        self.message = message
        self.data = data
    }

    /// The message the client sees.
    public var description: String { self.message }
}

/// Thrown by a per-packet middleware (`socket.use`) to reject an event; it reaches the socket's error handlers.
public struct EventRejected: Error, Sendable, CustomStringConvertible {
    /// Why the event was rejected.
    public var message: String
    /// Extra data.
    public var data: JSONValue?

    /// Rejects with `message`.
    public init(_ message: String, data: JSONValue? = nil) {
        self.message = message
        self.data = data
    }

    /// Why the event was rejected.
    public var description: String { self.message }
}
