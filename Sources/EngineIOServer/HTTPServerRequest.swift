import EngineIOCore
import HTTPTypes
import NIOCore

/// A complete HTTP request that is not for Engine.IO, handed to the application's handler: its head as a
/// swift-http-types `HTTPRequest` (method, scheme, authority, path, header fields), its body and the
/// client's address.
public struct HTTPServerRequest: Sendable {
    /// The request head. The `Host` header is its `authority`, as swift-http-types has it.
    public var head: HTTPRequest
    /// The decoded path and query of `head.path`.
    public var target: RequestTarget
    /// The body (bounded by the server's `maxRequestBodySize`).
    public var body: ByteBuffer
    /// The client's address.
    public var remoteAddress: SocketAddress?

    /// Creates a request (for handing a request that another server received to an `HTTPRequestHandler`).
    public init(head: HTTPRequest, body: ByteBuffer = ByteBuffer(), remoteAddress: SocketAddress? = nil) {
        self.head = head
        self.target = RequestTarget(head.path ?? "/")
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The request method.
    public var method: HTTPRequest.Method { self.head.method }
    /// The header fields.
    public var headerFields: HTTPFields { self.head.headerFields }
    /// The decoded path, without the query.
    public var path: String { self.target.path }
    /// The query parameters, first value winning.
    public var query: [String: String] { self.target.query }
}

/// Answers the HTTP requests that are not for Engine.IO (pages, assets, health checks).
public typealias HTTPRequestHandler = @Sendable (HTTPServerRequest) async -> HTTPServerResponse
