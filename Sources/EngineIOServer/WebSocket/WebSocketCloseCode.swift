/// Close status codes (RFC 6455 section 7.4), as an open set of wire values.
public struct WebSocketCloseCode: Hashable, Sendable, CustomStringConvertible {
    /// The wire value.
    public var rawValue: UInt16

    /// Wraps a wire value.
    public init(_ rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// 1000: normal closure.
    public static let normalClosure = Self(1000)
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    public static let goingAway = Self(1001)
    /// 1002: protocol error.
    public static let protocolError = Self(1002)
    /// 1003: a data type the endpoint cannot accept.
    public static let unsupportedData = Self(1003)
    /// 1007: data inconsistent with the message type (invalid UTF-8 in text).
    public static let invalidPayloadData = Self(1007)
    /// 1008: policy violation.
    public static let policyViolation = Self(1008)
    /// 1009: message too big.
    public static let messageTooBig = Self(1009)
    /// 1011: unexpected condition on the server.
    public static let internalError = Self(1011)

    /// Whether a peer may send this code in a close frame (RFC 6455 7.4.1 and the IANA registry): 1000-1003,
    /// 1007-1011, the registered 1012-1014, and 3000-4999. 1004-1006, 1015 and the unassigned rest are not.
    public var isValidOnTheWire: Bool {
        switch self.rawValue {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    /// The decimal code.
    public var description: String { String(self.rawValue) }
}
