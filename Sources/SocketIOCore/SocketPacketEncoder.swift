import NIOCore

/// A packet in wire form: the text part and the binary attachments that follow it, each sent as its own
/// Engine.IO message (the text with the Engine.IO `4` message prefix, the attachments as binary messages).
public struct EncodedSocketPacket: Sendable, Hashable {
    /// The text form, `<type>[<n>-][<nsp>,][<ackId>][<json>]`, UTF-8, without the Engine.IO prefix.
    public var text: ByteBuffer
    /// The binary attachments in placeholder order (`num` 0, 1, …); empty for non-binary packets.
    public var attachments: [ByteBuffer]

    /// Creates an encoded packet from its parts.
    public init(text: ByteBuffer, attachments: [ByteBuffer] = []) {
        self.text = text
        self.attachments = attachments
    }
}

/// Encodes ``SocketPacket``s into their Socket.IO v5 wire form (the default `socket.io-parser` format).
///
/// The namespace is written (followed by ",") only when it is not "/". For events and acks, every binary value
/// in the payload is replaced, depth first, by `{"_placeholder":true,"num":i}` and returned as attachment `i`,
/// and the type becomes `BINARY_EVENT`/`BINARY_ACK` with the attachment count; without binary values the plain
/// type is used. Other packet types do not carry attachments: binary values inside them are written as Node.js
/// serializes a `Buffer` (`{"type":"Buffer","data":[…]}`), as `socket.io-parser` does.
///
/// The encoder is a stateless value; encode a broadcast once and share the resulting buffers.
public struct SocketPacketEncoder: Sendable {
    /// The allocator for the text buffers.
    public var allocator: ByteBufferAllocator

    /// Creates an encoder.
    public init(allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.allocator = allocator
    }

    /// Encodes `packet` into a new text buffer sized once for it, plus its attachments.
    public func encode(_ packet: SocketPacket) -> EncodedSocketPacket {
        var writer = JSONWriter(binaryStrategy: packet.isEvent || packet.isAck ? .placeholders : .nodeBuffer)
        let measure = packet.data.map { writer.measure($0) } ?? (bound: 0, binaries: 0)
        var buffer = self.allocator.buffer(capacity: Self.headerBound(packet) + measure.bound)
        self.encode(packet, into: &buffer, writer: &writer, measure: measure)
        return EncodedSocketPacket(text: buffer, attachments: writer.attachments)
    }

    /// Appends the text form of `packet` to `buffer` (so a caller can write a transport prefix first, e.g. the
    /// Engine.IO `4`) and returns the binary attachments.
    public func encode(_ packet: SocketPacket, into buffer: inout ByteBuffer) -> [ByteBuffer] {
        var writer = JSONWriter(binaryStrategy: packet.isEvent || packet.isAck ? .placeholders : .nodeBuffer)
        let measure = packet.data.map { writer.measure($0) } ?? (bound: 0, binaries: 0)
        buffer.reserveCapacity(minimumWritableBytes: Self.headerBound(packet) + measure.bound)
        self.encode(packet, into: &buffer, writer: &writer, measure: measure)
        return writer.attachments
    }

    private static func headerBound(_ packet: SocketPacket) -> Int {
        1 + JSONWriter.maxIntLength + 1 + packet.namespace.utf8.count + 1 + JSONWriter.maxIntLength
    }

    private func encode(
        _ packet: SocketPacket,
        into buffer: inout ByteBuffer,
        writer: inout JSONWriter,
        measure: (bound: Int, binaries: Int)
    ) {
        let carriesAttachments = packet.isEvent || packet.isAck
        let binaryCount = carriesAttachments ? measure.binaries : 0
        let type: SocketPacketType
        switch packet.type {
        case .event, .binaryEvent: type = binaryCount > 0 ? .binaryEvent : .event
        case .ack, .binaryAck: type = binaryCount > 0 ? .binaryAck : .ack
        default: type = packet.type
        }

        buffer.writeInteger(UInt8(ascii: "0") + type.rawValue)
        if binaryCount > 0 {
            buffer.writeDecimal(binaryCount)
            buffer.writeInteger(UInt8(ascii: "-"))
        }
        if packet.namespace != "/" {
            buffer.writeString(packet.namespace)
            buffer.writeInteger(UInt8(ascii: ","))
        }
        if let ackId = packet.ackId {
            buffer.writeDecimal(ackId)
        }
        if let data = packet.data {
            if binaryCount > 0 { writer.attachments.reserveCapacity(binaryCount) }
            writer.write(data, into: &buffer, bound: measure.bound)
        }
    }
}
