import EngineIOCore
import NIOCore
import NIOHTTP1

/// A complete HTTP request that is not for Engine.IO, handed to the application's handler.
public struct HTTPRequest: Sendable {
    /// The request method.
    public var method: HTTPMethod
    /// The request target as sent.
    public var uri: String
    /// The decoded path and query.
    public var target: RequestTarget
    /// The request headers.
    public var headers: HTTPHeaders
    /// The body (bounded by the server's `maxRequestBodySize`).
    public var body: ByteBuffer
    /// The client's address.
    public var remoteAddress: SocketAddress?

    /// The decoded path.
    public var path: String { self.target.path }
}

extension HTTPRequest {
    /// Creates a request (for handing a request that another server received to an `HTTPRequestHandler`).
    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer, remoteAddress: SocketAddress?) {
        self.init(method: method, uri: uri, target: RequestTarget(uri), headers: headers, body: body, remoteAddress: remoteAddress)
    }
}

/// The application's answer to an `HTTPRequest`.
public struct HTTPResponse: Sendable {
    /// The status.
    public var status: HTTPResponseStatus
    /// The headers (`Content-Length` is set by the server).
    public var headers: HTTPHeaders
    /// The body.
    public var body: ByteBuffer

    /// Creates a response.
    public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A plain-text response.
    public static func text(_ text: String, status: HTTPResponseStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: ByteBuffer(string: text))
    }

    /// 404 Not Found.
    public static var notFound: HTTPResponse { .text("Not Found", status: .notFound) }
}

/// Answers the HTTP requests that are not for Engine.IO (pages, assets, health checks).
public typealias HTTPRequestHandler = @Sendable (HTTPRequest) async -> HTTPResponse
