import NIOHTTP1

/// Why a request is not an acceptable WebSocket upgrade (RFC 6455 section 4.2.1), with the HTTP answer to give.
public struct WebSocketHandshakeError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case methodNotGet
        case httpVersionTooOld
        case missingUpgradeHeader
        case missingConnectionUpgrade
        case unsupportedVersion
        case invalidKey
    }

    private let code: Code

    private init(_ code: Code) {
        self.code = code
    }

    /// The request method is not GET.
    public static let methodNotGet = Self(.methodNotGet)
    /// The request is older than HTTP/1.1.
    public static let httpVersionTooOld = Self(.httpVersionTooOld)
    /// No `Upgrade: websocket` header.
    public static let missingUpgradeHeader = Self(.missingUpgradeHeader)
    /// The `Connection` header does not contain `upgrade`.
    public static let missingConnectionUpgrade = Self(.missingConnectionUpgrade)
    /// `Sec-WebSocket-Version` is missing or not 13.
    public static let unsupportedVersion = Self(.unsupportedVersion)
    /// `Sec-WebSocket-Key` is missing, repeated, or not the base64 encoding of 16 bytes.
    public static let invalidKey = Self(.invalidKey)

    /// The status to answer with: 426 Upgrade Required for a wrong version, 400 Bad Request otherwise.
    public var status: HTTPResponseStatus {
        switch self.code {
        case .unsupportedVersion: return .upgradeRequired
        default: return .badRequest
        }
    }

    /// Headers the answer should carry (`Sec-WebSocket-Version: 13` for a version mismatch, RFC 6455 4.4).
    public var responseHeaders: HTTPHeaders {
        switch self.code {
        case .unsupportedVersion: return ["Sec-WebSocket-Version": "13"]
        default: return [:]
        }
    }

    /// A short human-readable reason.
    public var description: String {
        switch self.code {
        case .methodNotGet: return "WebSocket upgrade requires GET"
        case .httpVersionTooOld: return "WebSocket upgrade requires HTTP/1.1"
        case .missingUpgradeHeader: return "missing 'Upgrade: websocket' header"
        case .missingConnectionUpgrade: return "'Connection' header does not contain 'upgrade'"
        case .unsupportedVersion: return "unsupported Sec-WebSocket-Version (13 is required)"
        case .invalidKey: return "missing or invalid Sec-WebSocket-Key"
        }
    }
}
