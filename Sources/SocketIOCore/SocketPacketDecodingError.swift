/// Why a Socket.IO packet was rejected. The Node.js server closes the connection on any of these.
public struct SocketPacketDecodingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure, comparable in tests and usable as a bounded metrics label.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: UInt8
        private init(_ raw: UInt8) { self.raw = raw }

        /// An empty text message.
        public static let emptyPacket = Code(0)
        /// The first character is not a packet type digit 0–6.
        public static let unknownType = Code(1)
        /// A binary packet without a valid `<n>-` attachment count.
        public static let invalidAttachmentCount = Code(2)
        /// More attachments announced than the configuration allows.
        public static let tooManyAttachments = Code(3)
        /// A namespace that is not valid UTF-8.
        public static let invalidNamespace = Code(4)
        /// An acknowledgement id above the configured maximum, on a packet type that takes none (CONNECT,
        /// DISCONNECT, CONNECT_ERROR), or missing on an ACK.
        public static let invalidAckId = Code(5)
        /// The payload is not valid JSON.
        public static let invalidJSON = Code(6)
        /// The payload does not have the shape the packet type requires (or is missing where required).
        public static let invalidPayload = Code(7)
        /// An event named like a reserved event (`connect`, `disconnect`, …).
        public static let reservedEventName = Code(8)
        /// A placeholder whose `num` is missing, out of range or repeated.
        public static let invalidPlaceholder = Code(9)
        /// A binary message while no binary packet is waiting for attachments.
        public static let unexpectedAttachment = Code(10)
        /// A text message while a binary packet is still waiting for attachments.
        public static let unexpectedText = Code(11)

        /// The name of the code.
        public var description: String {
            switch self.raw {
            case 0: "emptyPacket"
            case 1: "unknownType"
            case 2: "invalidAttachmentCount"
            case 3: "tooManyAttachments"
            case 4: "invalidNamespace"
            case 5: "invalidAckId"
            case 6: "invalidJSON"
            case 7: "invalidPayload"
            case 8: "reservedEventName"
            case 9: "invalidPlaceholder"
            case 10: "unexpectedAttachment"
            default: "unexpectedText"
            }
        }
    }

    private enum Reason: Hashable, Sendable {
        case emptyPacket
        case unknownType(UInt8)
        case invalidAttachmentCount
        case tooManyAttachments(count: Int, limit: Int)
        case invalidNamespace
        case invalidAckId(limit: Int)
        case unexpectedAckId(SocketPacketType)
        case missingAckId(SocketPacketType)
        case invalidJSON(JSONParsingError, payloadOffset: Int)
        case invalidPayload(SocketPacketType, expected: String)
        case reservedEventName(String)
        case invalidPlaceholder(String)
        case unexpectedAttachment
        case unexpectedText
    }

    private let reason: Reason

    private init(_ reason: Reason) { self.reason = reason }

    /// The kind of failure.
    public var code: Code {
        switch self.reason {
        case .emptyPacket: .emptyPacket
        case .unknownType: .unknownType
        case .invalidAttachmentCount: .invalidAttachmentCount
        case .tooManyAttachments: .tooManyAttachments
        case .invalidNamespace: .invalidNamespace
        case .invalidAckId, .unexpectedAckId, .missingAckId: .invalidAckId
        case .invalidJSON: .invalidJSON
        case .invalidPayload: .invalidPayload
        case .reservedEventName: .reservedEventName
        case .invalidPlaceholder: .invalidPlaceholder
        case .unexpectedAttachment: .unexpectedAttachment
        case .unexpectedText: .unexpectedText
        }
    }

    /// The JSON error, when the payload was not valid JSON.
    public var jsonError: JSONParsingError? {
        if case .invalidJSON(let error, _) = self.reason { return error }
        return nil
    }

    /// A human-readable account of the failure.
    public var description: String {
        switch self.reason {
        case .emptyPacket:
            "empty Socket.IO packet"
        case .unknownType(let byte):
            "unknown Socket.IO packet type 0x\(String(byte, radix: 16, uppercase: true))"
        case .invalidAttachmentCount:
            "binary packet without a valid attachment count"
        case .tooManyAttachments(let count, let limit):
            "too many binary attachments: \(count) (limit \(limit))"
        case .invalidNamespace:
            "namespace is not valid UTF-8"
        case .invalidAckId(let limit):
            "acknowledgement id above \(limit)"
        case .unexpectedAckId(let type):
            "\(type) packet with an acknowledgement id"
        case .missingAckId(let type):
            "\(type) packet without an acknowledgement id"
        case .invalidJSON(let error, let payloadOffset):
            "invalid JSON payload starting at offset \(payloadOffset): \(error)"
        case .invalidPayload(let type, let expected):
            "invalid \(type) payload: expected \(expected)"
        case .reservedEventName(let name):
            "reserved event name \"\(name)\""
        case .invalidPlaceholder(let detail):
            "invalid binary placeholder: \(detail)"
        case .unexpectedAttachment:
            "binary attachment received while no binary packet expects one"
        case .unexpectedText:
            "text packet received while a binary packet still expects attachments"
        }
    }

    static let emptyPacket = Self(.emptyPacket)
    static func unknownType(_ byte: UInt8) -> Self { Self(.unknownType(byte)) }
    static let invalidAttachmentCount = Self(.invalidAttachmentCount)
    static func tooManyAttachments(_ count: Int, limit: Int) -> Self { Self(.tooManyAttachments(count: count, limit: limit)) }
    static let invalidNamespace = Self(.invalidNamespace)
    static func invalidAckId(limit: Int) -> Self { Self(.invalidAckId(limit: limit)) }
    static func unexpectedAckId(_ type: SocketPacketType) -> Self { Self(.unexpectedAckId(type)) }
    static func missingAckId(_ type: SocketPacketType) -> Self { Self(.missingAckId(type)) }
    static func invalidJSON(_ error: JSONParsingError, payloadOffset: Int) -> Self {
        Self(.invalidJSON(error, payloadOffset: payloadOffset))
    }
    static func invalidPayload(_ type: SocketPacketType, expected: String) -> Self {
        Self(.invalidPayload(type, expected: expected))
    }
    static func reservedEventName(_ name: String) -> Self { Self(.reservedEventName(name)) }
    static func invalidPlaceholder(_ detail: String) -> Self { Self(.invalidPlaceholder(detail)) }
    static let unexpectedAttachment = Self(.unexpectedAttachment)
    static let unexpectedText = Self(.unexpectedText)
}
