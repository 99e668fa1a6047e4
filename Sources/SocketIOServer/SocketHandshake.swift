import EngineIOServer
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import SocketIOCore

/// What the server knows about the request that opened a socket (Socket.IO's `socket.handshake`).
public struct SocketHandshake: Sendable {
    /// The HTTP headers of the first request, as NIO decoded them (kept for the socket's life).
    package var httpHeaders: HTTPHeaders
    /// Its query parameters.
    public var query: [String: String]
    /// The `auth` payload the client sent with CONNECT (an empty object when none).
    public var auth: JSONValue
    /// The client's IP address.
    public var address: String
    /// When the connection was made, as a date string.
    public var time: String
    /// When the connection was made, in milliseconds since 1970.
    public var issued: Int64
    /// The request URL.
    public var url: String
    /// Whether the connection is TLS.
    public var secure: Bool
    /// Whether the request came from another origin.
    public var xdomain: Bool
    /// The user the application's authentication middleware found for the request, when Socket.IO is
    /// mounted behind that middleware (Vapor: `app.mount(io, on: authenticatedRoutes) { ... }`); nil
    /// otherwise. Cast it to the application's type: `socket.handshake.user as? User`. Not part of
    /// ``json`` (it stays on the node that has the socket).
    public var user: (any Sendable)?

    init(engine: EngineHandshakeRequest, auth: JSONValue, issued: Int64) {
        self.httpHeaders = engine.httpHeaders
        self.query = engine.query
        self.auth = auth
        self.address = engine.remoteAddress?.ipAddress ?? ""
        self.time = Date(timeIntervalSince1970: Double(issued) / 1000).description
        self.issued = issued
        self.url = engine.uri
        self.secure = engine.isSecure
        self.xdomain = engine.httpHeaders.first(name: "Origin") != nil
        self.user = engine.user
    }

    /// The HTTP header fields of the first request, `Host` included (Node's `socket.handshake.headers`).
    public var headers: HTTPFields {
        get { HTTPFields(self.httpHeaders) }
        set { self.httpHeaders = HTTPHeaders(newValue) }
    }

    /// The handshake as a JSON object (for `fetchSockets` across nodes).
    public var json: JSONValue {
        var headerObject = JSONObject()
        for (name, value) in self.httpHeaders { _ = headerObject.updateValue(.string(value), forKey: name.lowercased()) }
        var queryObject = JSONObject()
        for (name, value) in self.query { _ = queryObject.updateValue(.string(value), forKey: name) }
        return [
            "headers": .object(headerObject),
            "time": .string(self.time),
            "address": .string(self.address),
            "xdomain": .bool(self.xdomain),
            "secure": .bool(self.secure),
            "issued": .int(Int(self.issued)),
            "url": .string(self.url),
            "query": .object(queryObject),
            "auth": self.auth,
        ]
    }
}
