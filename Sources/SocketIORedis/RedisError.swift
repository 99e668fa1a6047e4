/// Errors of the Redis client, the adapter and the emitter.
public struct RedisError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case invalidURL(String)
        case protocolError(String)
        case server(String)
        case notConnected
        case connectionClosed
        case tooManyPendingCommands
        case shutdown
        case unexpectedReply(String)
        case requestTimeout(String)
    }

    private let code: Code

    /// The URL is not `redis://[user:pass@]host[:port][/db]`.
    public static func invalidURL(_ detail: String) -> RedisError { RedisError(code: .invalidURL(detail)) }
    /// The server sent bytes that are not RESP (or over the parser's limits).
    public static func protocolError(_ detail: String) -> RedisError { RedisError(code: .protocolError(detail)) }
    /// The server answered with an error reply (`-ERR ...`).
    public static func server(_ message: String) -> RedisError { RedisError(code: .server(message)) }
    /// No connection to Redis right now (it is being re-established).
    public static let notConnected = RedisError(code: .notConnected)
    /// The connection closed before the reply arrived.
    public static let connectionClosed = RedisError(code: .connectionClosed)
    /// Too many commands are waiting for replies; this one was refused to bound memory.
    public static let tooManyPendingCommands = RedisError(code: .tooManyPendingCommands)
    /// The client was shut down.
    public static let shutdown = RedisError(code: .shutdown)
    /// A reply had an unexpected shape.
    public static func unexpectedReply(_ detail: String) -> RedisError { RedisError(code: .unexpectedReply(detail)) }
    /// Other nodes did not all answer a request in time (`requestsTimeout`).
    public static func requestTimeout(_ detail: String) -> RedisError { RedisError(code: .requestTimeout(detail)) }

    /// The text of the server's error reply, for `server` errors.
    public var serverMessage: String? {
        if case .server(let message) = self.code { return message }
        return nil
    }

    /// Whether this is a request timeout.
    public var isRequestTimeout: Bool {
        if case .requestTimeout = self.code { return true }
        return false
    }

    public var description: String {
        switch self.code {
        case .invalidURL(let detail): return "invalid Redis URL: \(detail)"
        case .protocolError(let detail): return "Redis protocol error: \(detail)"
        case .server(let message): return "Redis error: \(message)"
        case .notConnected: return "not connected to Redis"
        case .connectionClosed: return "the Redis connection closed"
        case .tooManyPendingCommands: return "too many Redis commands waiting for replies"
        case .shutdown: return "the Redis client is shut down"
        case .unexpectedReply(let detail): return "unexpected Redis reply: \(detail)"
        case .requestTimeout(let detail): return "timeout reached while waiting for \(detail)"
        }
    }
}
