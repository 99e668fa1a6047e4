import EngineIOCore

/// Why an Engine.IO client connection failed or closed.
public struct EngineClientError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Kind: Hashable, Sendable {
        case invalidURL(String)
        case noTransport
        case http(status: Int, body: String)
        case server(EngineErrorCode)
        case badHandshake(String)
        case connection(String)
        case webSocketUpgradeFailed(status: Int?)
        case parse(String)
        case closed
    }

    private let kind: Kind

    private init(_ kind: Kind) { self.kind = kind }

    /// The URL could not be read.
    public static func invalidURL(_ url: String) -> Self { .init(.invalidURL(url)) }
    /// The configuration enables no transport.
    public static var noTransport: Self { .init(.noTransport) }
    /// The server answered an HTTP request with an unexpected status.
    public static func http(status: Int, body: String) -> Self { .init(.http(status: status, body: body)) }
    /// The server refused the request with an Engine.IO error code.
    public static func server(_ code: EngineErrorCode) -> Self { .init(.server(code)) }
    /// The open packet was missing or malformed.
    public static func badHandshake(_ detail: String) -> Self { .init(.badHandshake(detail)) }
    /// The TCP/TLS connection failed or broke.
    public static func connection(_ detail: String) -> Self { .init(.connection(detail)) }
    /// The server did not switch to WebSocket.
    public static func webSocketUpgradeFailed(status: Int?) -> Self { .init(.webSocketUpgradeFailed(status: status)) }
    /// The server sent bytes that are not Engine.IO packets.
    public static func parse(_ detail: String) -> Self { .init(.parse(detail)) }
    /// The client was closed.
    public static var closed: Self { .init(.closed) }

    /// The Engine.IO error code of a refused request, if that is what happened.
    public var serverCode: EngineErrorCode? {
        if case .server(let code) = self.kind { return code }
        return nil
    }

    /// Whether the server sent something unreadable.
    public var isParseError: Bool {
        if case .parse = self.kind { return true }
        return false
    }

    public var description: String {
        switch self.kind {
        case .invalidURL(let url): return "invalid URL \(url)"
        case .noTransport: return "no transport enabled"
        case .http(let status, let body): return "HTTP \(status)\(body.isEmpty ? "" : ": \(body)")"
        case .server(let code): return "server error \(code.code): \(code.message)"
        case .badHandshake(let detail): return "bad handshake: \(detail)"
        case .connection(let detail): return "connection error: \(detail)"
        case .webSocketUpgradeFailed(let status): return "WebSocket upgrade refused" + (status.map { " (HTTP \($0))" } ?? "")
        case .parse(let detail): return "parse error: \(detail)"
        case .closed: return "closed"
        }
    }
}

/// Why an open Engine.IO client session ended, with the names the JavaScript client uses.
public struct EngineClientCloseReason: Hashable, Sendable, CustomStringConvertible {
    /// The reason's name: `transport close`, `transport error`, `ping timeout`, `forced close`, `parse error`.
    public let name: String
    /// The error behind it, if any.
    public let error: EngineClientError?

    /// Creates a reason.
    public init(name: String, error: EngineClientError? = nil) {
        self.name = name
        self.error = error
    }

    /// The server closed the session or the connection ended.
    public static let transportClose = EngineClientCloseReason(name: "transport close")
    /// The connection failed.
    public static func transportError(_ error: EngineClientError) -> EngineClientCloseReason {
        EngineClientCloseReason(name: "transport error", error: error)
    }
    /// No ping arrived within `pingInterval + pingTimeout`.
    public static let pingTimeout = EngineClientCloseReason(name: "ping timeout")
    /// The client closed the session.
    public static let forcedClose = EngineClientCloseReason(name: "forced close")
    /// The server sent something unreadable.
    public static func parseError(_ error: EngineClientError) -> EngineClientCloseReason {
        EngineClientCloseReason(name: "parse error", error: error)
    }

    public var description: String { self.error.map { "\(self.name) (\($0))" } ?? self.name }
}
