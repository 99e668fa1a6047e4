import NIOCore

/// Decodes Socket.IO v5 packets from Engine.IO messages (text without the Engine.IO `4` prefix, and binary
/// attachments), validating them as the Node.js server does, and more strictly where the spec says MUST.
///
/// Stateful: a `BINARY_EVENT`/`BINARY_ACK` text announces `n` attachments; ``decode(text:)-(ByteBuffer)`` then
/// returns nil and the packet is returned, with every placeholder replaced in place by its ``JSONValue/binary(_:)``
/// value, by the ``decode(binary:)`` call that delivers the last attachment. One decoder per connection; after
/// any error the connection should be closed (the decoder itself is reset).
///
/// Checks: the type digit; the attachment count (only on binary types, digits followed by "-", at most
/// ``Configuration/maxAttachments``); the namespace (valid UTF-8, ends at "," or the end of the text); the ack id
/// (at most ``Configuration/maxAckId``, only on events and acks, required on acks); the JSON (strict,
/// depth-limited, nothing after it); the payload shape: CONNECT an object or nothing, DISCONNECT nothing, EVENT a non-empty array whose first element is a string (or a
/// number, as Node.js allows) not among the reserved names, ACK an array, CONNECT_ERROR an object or a string;
/// placeholders `{"_placeholder":true,"num":i}` with `i` in range and not repeated.
public struct SocketPacketDecoder: Sendable {
    /// Limits and options.
    public struct Configuration: Sendable, Hashable {
        /// The most attachments one packet may announce (python-socketio caps the count at 10 digits, Node.js
        /// not at all; 10 is plenty for real applications).
        public var maxAttachments: Int
        /// The deepest nesting of arrays/objects accepted in a payload.
        public var maxNestingDepth: Int
        /// The largest acknowledgement id accepted (default: JavaScript's largest safe integer, 2^53 − 1).
        public var maxAckId: Int
        /// Whether events named `connect`, `connect_error`, `disconnect`, `disconnecting`, `newListener` or
        /// `removeListener` are rejected (Node.js rejects them).
        public var rejectsReservedEventNames: Bool
        /// Whether an event name may be a number (Node.js accepts `2[1,"a"]`).
        public var allowsNumericEventNames: Bool

        /// Creates a configuration; the defaults match the Node.js server's behaviour with sane bounds.
        public init(
            maxAttachments: Int = 10,
            maxNestingDepth: Int = JSONValue.defaultMaxNestingDepth,
            maxAckId: Int = (1 << 53) - 1,
            rejectsReservedEventNames: Bool = true,
            allowsNumericEventNames: Bool = true
        ) {
            self.maxAttachments = maxAttachments
            self.maxNestingDepth = maxNestingDepth
            self.maxAckId = maxAckId
            self.rejectsReservedEventNames = rejectsReservedEventNames
            self.allowsNumericEventNames = allowsNumericEventNames
        }
    }

    /// Event names the Node.js parser refuses to receive.
    public static let reservedEventNames: Set<String> = [
        "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
    ]

    /// The limits in force.
    public var configuration: Configuration

    private var pending: PendingBinaryPacket?

    private struct PendingBinaryPacket: Sendable {
        var packet: SocketPacket
        var expected: Int
        var attachments: [ByteBuffer]
    }

    /// Creates a decoder.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Whether a binary packet is waiting for more attachments.
    public var isAwaitingAttachments: Bool { self.pending != nil }

    /// Drops a partially received binary packet.
    public mutating func reset() {
        self.pending = nil
    }

    /// Decodes a text message (the readable bytes of `text`, which are not consumed). Returns nil when the packet
    /// is binary and waits for its attachments.
    public mutating func decode(text: ByteBuffer) throws(SocketPacketDecodingError) -> SocketPacket? {
        let result = text.withUnsafeReadableBytes { bytes in
            Result { () throws(SocketPacketDecodingError) in try self.decode(text: bytes) }
        }
        return try result.get()
    }

    /// Decodes a text message given as a string (see ``decode(text:)-(ByteBuffer)``).
    public mutating func decode(text: String) throws(SocketPacketDecodingError) -> SocketPacket? {
        var text = text
        let result = text.withUTF8 { utf8 in
            Result { () throws(SocketPacketDecodingError) in try self.decode(text: UnsafeRawBufferPointer(utf8)) }
        }
        return try result.get()
    }

    /// Decodes a text message from raw UTF-8 bytes (see ``decode(text:)-(ByteBuffer)``).
    public mutating func decode(text bytes: UnsafeRawBufferPointer) throws(SocketPacketDecodingError) -> SocketPacket? {
        guard self.pending == nil else {
            self.pending = nil
            throw .unexpectedText
        }
        let (packet, attachmentCount) = try self.parse(bytes.bindMemory(to: UInt8.self))
        guard packet.type.isBinary, attachmentCount > 0 else { return packet }
        var attachments: [ByteBuffer] = []
        attachments.reserveCapacity(attachmentCount)
        self.pending = PendingBinaryPacket(packet: packet, expected: attachmentCount, attachments: attachments)
        return nil
    }

    /// Decodes a binary message: the next attachment of the pending binary packet. Returns the packet, with its
    /// placeholders replaced, once the last attachment has arrived; nil before.
    public mutating func decode(binary: ByteBuffer) throws(SocketPacketDecodingError) -> SocketPacket? {
        guard var pending = self.pending else { throw .unexpectedAttachment }
        self.pending = nil  // keep `pending.attachments` uniquely referenced
        pending.attachments.append(binary)
        guard pending.attachments.count == pending.expected else {
            self.pending = pending
            return nil
        }
        var packet = pending.packet
        if var data = packet.data {
            packet.data = nil
            Self.reconstruct(&data, attachments: pending.attachments)
            packet.data = data
        }
        return packet
    }

    // MARK: Text parsing

    private func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(SocketPacketDecodingError) -> (SocketPacket, Int) {
        guard let first = bytes.first else { throw .emptyPacket }
        guard first >= UInt8(ascii: "0"), let type = SocketPacketType(rawValue: first &- UInt8(ascii: "0")) else {
            throw .unknownType(first)
        }
        var index = 1
        let count = bytes.count

        var attachmentCount = 0
        if type.isBinary {
            let digitsStart = index
            let limit = self.configuration.maxAttachments
            while index < count, Self.isDigit(bytes[index]) {
                let digit = Int(bytes[index] &- UInt8(ascii: "0"))
                guard digit <= limit, attachmentCount <= (limit - digit) / 10 else {
                    let announced = attachmentCount > (Int.max - digit) / 10 ? Int.max : attachmentCount * 10 + digit
                    throw .tooManyAttachments(announced, limit: limit)
                }
                attachmentCount = attachmentCount * 10 + digit
                index += 1
            }
            guard index > digitsStart, index < count, bytes[index] == UInt8(ascii: "-") else {
                throw .invalidAttachmentCount
            }
            index += 1
        }

        var namespace = "/"
        if index < count, bytes[index] == UInt8(ascii: "/") {
            let start = index
            while index < count, bytes[index] != UInt8(ascii: ",") { index += 1 }
            guard let name = String(validatingUTF8Bytes: UnsafeBufferPointer(rebasing: bytes[start..<index]))
            else { throw .invalidNamespace }
            namespace = name
            if index < count { index += 1 }  // the comma
        }

        var ackId: Int?
        if index < count, Self.isDigit(bytes[index]) {
            var value = 0
            let limit = self.configuration.maxAckId
            while index < count, Self.isDigit(bytes[index]) {
                let digit = Int(bytes[index] &- UInt8(ascii: "0"))
                guard digit <= limit, value <= (limit - digit) / 10 else { throw .invalidAckId(limit: limit) }
                value = value * 10 + digit
                index += 1
            }
            ackId = value
        }

        var data: JSONValue?
        if index < count {
            var parser = JSONParser(
                bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[index..<count]),
                maxNestingDepth: self.configuration.maxNestingDepth
            )
            do {
                data = try parser.parseDocument()
            } catch {
                throw .invalidJSON(error, payloadOffset: index)
            }
        }

        switch type {
        case .event, .binaryEvent: break
        case .ack, .binaryAck: if ackId == nil { throw .missingAckId(type) }
        case .connect, .disconnect, .connectError: if ackId != nil { throw .unexpectedAckId(type) }
        }
        try self.validatePayload(data, of: type)
        if type.isBinary, let data {
            var seen = [Bool](repeating: false, count: attachmentCount)
            try Self.checkPlaceholders(in: data, seen: &seen)
        }
        return (SocketPacket(type: type, namespace: namespace, ackId: ackId, data: data), attachmentCount)
    }

    @inline(__always)
    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private func validatePayload(_ data: JSONValue?, of type: SocketPacketType) throws(SocketPacketDecodingError) {
        switch type {
        case .connect:
            switch data {
            case nil, .object?: return
            default: throw .invalidPayload(type, expected: "an object or nothing")
            }
        case .disconnect:
            guard data == nil else { throw .invalidPayload(type, expected: "no payload") }
        case .connectError:
            switch data {
            case .object?, .string?: return
            default: throw .invalidPayload(type, expected: "an object or a string")
            }
        case .ack, .binaryAck:
            guard case .array? = data else { throw .invalidPayload(type, expected: "an array") }
        case .event, .binaryEvent:
            guard case .array(let array)? = data, let first = array.first else {
                throw .invalidPayload(type, expected: "a non-empty array")
            }
            switch first {
            case .string(let name):
                if self.configuration.rejectsReservedEventNames, Self.reservedEventNames.contains(name) {
                    throw .reservedEventName(name)
                }
            case .int, .double:
                guard self.configuration.allowsNumericEventNames else {
                    throw .invalidPayload(type, expected: "an event name string first")
                }
            default:
                throw .invalidPayload(type, expected: "an event name first")
            }
        }
    }

    // MARK: Placeholders

    /// The attachment index if `object` is a placeholder (`_placeholder` is `true`, as Node.js checks), nil if it
    /// is an ordinary object; throws when the index is missing or not an integer.
    private static func placeholderIndex(_ object: JSONObject) throws(SocketPacketDecodingError) -> Int? {
        guard object.count >= 1, case .bool(true)? = object["_placeholder"] else { return nil }
        guard case .int(let num)? = object["num"] else { throw .invalidPlaceholder("\"num\" is not an integer") }
        return num
    }

    private static func checkPlaceholders(in value: JSONValue, seen: inout [Bool]) throws(SocketPacketDecodingError) {
        switch value {
        case .array(let array):
            for element in array { try Self.checkPlaceholders(in: element, seen: &seen) }
        case .object(let object):
            if let num = try Self.placeholderIndex(object) {
                guard num >= 0, num < seen.count else {
                    throw .invalidPlaceholder("num \(num) out of range 0..<\(seen.count)")
                }
                guard !seen[num] else { throw .invalidPlaceholder("num \(num) used twice") }
                seen[num] = true
                return
            }
            for entry in object._entries { try Self.checkPlaceholders(in: entry.value, seen: &seen) }
        default:
            return
        }
    }

    /// Replaces the (already validated) placeholders with their attachments, in place.
    private static func reconstruct(_ value: inout JSONValue, attachments: [ByteBuffer]) {
        switch value {
        case .array(var array):
            value = .null  // keep `array` uniquely referenced while mutating it
            for index in array.indices {
                Self.reconstruct(&array[index], attachments: attachments)
            }
            value = .array(array)
        case .object(var object):
            if let num = try? Self.placeholderIndex(object) {
                value = .binary(attachments[num])
                return
            }
            value = .null
            for position in 0..<object.count {
                object.withValue(at: position) { Self.reconstruct(&$0, attachments: attachments) }
            }
            value = .object(object)
        default:
            return
        }
    }
}
