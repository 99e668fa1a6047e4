import EngineIOCore
import HTTPTypes
import NIOCore
import NIOHTTP1

/// The HTTP request that opened an Engine.IO session, as the application sees it.
public struct EngineHandshakeRequest: Sendable {
    /// The request target as sent (`/socket.io/?EIO=4&transport=polling`).
    public var uri: String
    /// The decoded path and query.
    public var target: RequestTarget
    /// The request's headers as NIO decoded them (what the session keeps).
    package var httpHeaders: HTTPHeaders
    /// The client's address.
    public var remoteAddress: SocketAddress?
    /// Whether the connection is TLS.
    public var isSecure: Bool
    /// When the handshake arrived.
    public var time: NIODeadline
    /// The first transport of the session.
    public var transport: EngineTransport
    /// What the application's own middleware made of the request (its authenticated user), when the engine
    /// is mounted behind that middleware on a framework (`SocketIOVapor`'s `mount(_:on:user:)`); nil
    /// otherwise.
    public var user: (any Sendable)? = nil

    /// The query parameters, first value winning.
    public var query: [String: String] { self.target.query }

    /// The request's header fields, `Host` included.
    public var headers: HTTPFields { HTTPFields(self.httpHeaders) }
}

/// What an `allowRequest` hook decides about a handshake.
public enum EngineRequestDecision: Sendable, Hashable {
    /// Let the handshake proceed.
    case allow
    /// Refuse it: the client gets HTTP 403 with `{"code":4,"message":message}`.
    case refuse(message: String)

    /// Refuse with engine.io's default message.
    public static var refuse: EngineRequestDecision { .refuse(message: "Forbidden") }
}
