import SocketIOCore

/// Errors of the Socket.IO client.
public struct SocketClientError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case timeout
        case disconnected
        case connectError
        case transport
        case invalidURL
        case payloadRejected
    }

    private let kind: Kind
    /// A readable message (for a refused connection, the server's `message`).
    public let message: String
    /// The `data` of a refused connection, if the server sent any.
    public let data: JSONValue?

    private init(_ kind: Kind, message: String, data: JSONValue? = nil) {
        self.kind = kind
        self.message = message
        self.data = data
    }

    /// No acknowledgement arrived in time.
    public static let timeout = SocketClientError(.timeout, message: "operation has timed out")
    /// The socket disconnected before the acknowledgement arrived.
    public static let disconnected = SocketClientError(.disconnected, message: "socket has been disconnected")
    /// The server refused the namespace connection (CONNECT_ERROR) with `message` and `data`.
    public static func connectError(message: String, data: JSONValue?) -> SocketClientError {
        SocketClientError(.connectError, message: message, data: data)
    }
    /// The Engine.IO connection could not be established.
    public static func transport(_ message: String) -> SocketClientError { SocketClientError(.transport, message: message) }
    /// The URL could not be read.
    public static func invalidURL(_ url: String) -> SocketClientError { SocketClientError(.invalidURL, message: "invalid URL \(url)") }

    /// The server answered an emit with the decode-error reply (`{"error": "invalid payload", …}`, see
    /// `EventDecodingError`): it could not decode the payload as its handler's type. `data` is the reply.
    public static func payloadRejected(_ reply: JSONValue) -> SocketClientError {
        SocketClientError(.payloadRejected, message: "payload rejected: \(reply["message"]?.stringValue ?? "invalid payload")", data: reply)
    }

    /// Whether this is an acknowledgement timeout.
    public var isTimeout: Bool { self.kind == .timeout }
    /// Whether the server refused the namespace connection.
    public var isConnectError: Bool { self.kind == .connectError }
    /// Whether the server could not decode the payload (``payloadRejected(_:)``).
    public var isPayloadRejected: Bool { self.kind == .payloadRejected }
    /// Whether the socket disconnected.
    public var isDisconnected: Bool { self.kind == .disconnected }

    /// The message, followed by the server's data when there is some.
    public var description: String {
        if let data { return "\(self.message) \(data)" }
        return self.message
    }
}
