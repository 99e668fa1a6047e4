import NIOCore

/// Encodes and decodes single Engine.IO packets as they travel in WebSocket frames.
///
/// A text frame holds the type digit followed by the payload; a binary frame holds the raw bytes of a
/// binary message, with no type digit.
public enum EnginePacketCodec {
    /// Reads the packet in a WebSocket text frame (or one text segment of a polling payload).
    @inlinable
    public static func decodeText(_ frame: ByteBuffer, offset: Int = 0) throws(EngineDecodingError) -> EnginePacket {
        guard let first = frame.getInteger(at: frame.readerIndex, as: UInt8.self) else {
            throw .emptyPacket(at: offset)
        }
        guard let type = EnginePacketType(asciiDigit: first) else {
            throw .unknownPacketType(first, at: offset)
        }
        let payload = frame.getSlice(at: frame.readerIndex + 1, length: frame.readableBytes - 1) ?? ByteBuffer()
        return EnginePacket(type, payload: payload)
    }

    /// The packet carried by a WebSocket binary frame: always a binary message.
    @inlinable
    public static func decodeBinary(_ frame: ByteBuffer) -> EnginePacket {
        EnginePacket(message: .binary(frame))
    }

    /// Writes a packet's WebSocket frame payload into `buffer`; returns whether the frame must be binary.
    @inlinable
    @discardableResult
    public static func encode(_ packet: EnginePacket, into buffer: inout ByteBuffer) -> Bool {
        if packet.isBinary {
            buffer.writeImmutableBuffer(packet.payload)
            return true
        }
        buffer.writeInteger(packet.type.asciiDigit)
        buffer.writeImmutableBuffer(packet.payload)
        return false
    }
}
