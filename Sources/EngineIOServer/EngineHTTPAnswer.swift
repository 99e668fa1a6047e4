import EngineIOCore
import NIOCore
import NIOHTTP1

/// An answer to an HTTP request on the Engine.IO path, before CORS headers are added.
struct EngineHTTPAnswer: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer

    /// 200 with a polling payload or `ok`.
    static func text(_ body: ByteBuffer) -> EngineHTTPAnswer {
        EngineHTTPAnswer(status: .ok, headers: ["Content-Type": "text/plain; charset=UTF-8"], body: body)
    }

    /// 200 `ok`, the answer to a successful POST.
    static var ok: EngineHTTPAnswer {
        EngineHTTPAnswer(status: .ok, headers: ["Content-Type": "text/html"], body: ByteBuffer(string: "ok"))
    }

    /// 400/403 with the JSON error body.
    static func error(_ code: EngineErrorCode) -> EngineHTTPAnswer {
        EngineHTTPAnswer(
            status: HTTPResponseStatus(statusCode: code.httpStatus),
            headers: ["Content-Type": "application/json"],
            body: code.jsonBody
        )
    }

    /// 413 for a body over maxHttpBufferSize.
    static var payloadTooLarge: EngineHTTPAnswer {
        EngineHTTPAnswer(
            status: .payloadTooLarge,
            headers: ["Content-Type": "application/json"],
            body: EngineErrorCode(code: 3, message: "Payload too large").jsonBody
        )
    }
}
