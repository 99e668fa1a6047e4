import HTTPTypes
import NIOCore

/// The application's answer to an ``HTTPServerRequest``: a swift-http-types `HTTPResponse` head and a
/// body (`Content-Length` is set by the server).
public struct HTTPServerResponse: Sendable {
    /// The status and header fields.
    public var head: HTTPResponse
    /// The body.
    public var body: ByteBuffer

    /// Creates a response.
    public init(status: HTTPResponse.Status = .ok, headerFields: HTTPFields = [:], body: ByteBuffer = ByteBuffer()) {
        self.head = HTTPResponse(status: status, headerFields: headerFields)
        self.body = body
    }

    /// The status.
    public var status: HTTPResponse.Status {
        get { self.head.status }
        set { self.head.status = newValue }
    }

    /// The header fields.
    public var headerFields: HTTPFields {
        get { self.head.headerFields }
        set { self.head.headerFields = newValue }
    }

    /// A plain-text response.
    public static func text(_ text: String, status: HTTPResponse.Status = .ok) -> HTTPServerResponse {
        HTTPServerResponse(status: status, headerFields: [.contentType: "text/plain; charset=utf-8"], body: ByteBuffer(string: text))
    }

    /// 404 Not Found.
    public static var notFound: HTTPServerResponse { .text("Not Found", status: .notFound) }
}
