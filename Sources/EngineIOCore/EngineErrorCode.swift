import NIOCore

/// The error codes an Engine.IO server answers failed HTTP requests with, in a JSON body
/// `{"code":N,"message":"..."}`.
public struct EngineErrorCode: Error, Hashable, Sendable, CustomStringConvertible {
    /// The wire code.
    public let code: Int
    /// The message Node.js's engine.io sends with the code.
    public let message: String

    /// Creates a code with its message.
    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    /// 0: the `transport` query parameter is missing or not an enabled transport.
    public static let unknownTransport = EngineErrorCode(code: 0, message: "Transport unknown")
    /// 1: the `sid` names no open session.
    public static let unknownSessionID = EngineErrorCode(code: 1, message: "Session ID unknown")
    /// 2: a handshake that is not a GET.
    public static let badHandshakeMethod = EngineErrorCode(code: 2, message: "Bad handshake method")
    /// 3: any other malformed request.
    public static let badRequest = EngineErrorCode(code: 3, message: "Bad request")
    /// 4: refused by the server's `allowRequest` hook or origin policy.
    public static let forbidden = EngineErrorCode(code: 4, message: "Forbidden")
    /// 5: an `EIO` other than 4.
    public static let unsupportedProtocolVersion = EngineErrorCode(code: 5, message: "Unsupported protocol version")

    /// The HTTP status that goes with the code: 403 for forbidden, 400 otherwise.
    public var httpStatus: Int { self.code == 4 ? 403 : 400 }

    /// The JSON body `{"code":N,"message":"..."}`.
    public var jsonBody: ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeString("{\"code\":\(self.code),\"message\":")
        JSONText.writeString(self.message, into: &buffer)
        buffer.writeString("}")
        return buffer
    }

    public var description: String { "\(self.code) \(self.message)" }
}
