import NIOCore

/// The body of an HTTP long-polling request or response: packets joined by the record separator `0x1E`,
/// binary messages written as `b` followed by their base64.
public enum PollingPayload {
    /// The record separator between packets.
    public static let separator: UInt8 = 0x1E

    /// Reads every packet of a polling body. An empty body holds no packets.
    public static func decode(_ body: ByteBuffer) throws(EngineDecodingError) -> [EnginePacket] {
        var packets: [EnginePacket] = []
        guard body.readableBytes > 0 else { return packets }
        let view = body.readableBytesView
        var start = view.startIndex
        while true {
            let end = view[start...].firstIndex(of: separator) ?? view.endIndex
            let offset = start - view.startIndex
            let segment = body.getSlice(at: start, length: end - start)!
            packets.append(try decodeSegment(segment, offset: offset))
            if end == view.endIndex { break }
            start = end + 1
        }
        return packets
    }

    @usableFromInline
    static func decodeSegment(_ segment: ByteBuffer, offset: Int) throws(EngineDecodingError) -> EnginePacket {
        guard segment.getInteger(at: segment.readerIndex, as: UInt8.self) == UInt8(ascii: "b") else {
            return try EnginePacketCodec.decodeText(segment, offset: offset)
        }
        let encoded = segment.readableBytesView.dropFirst()
        guard let bytes = Base64.decode(encoded) else { throw .invalidBase64(at: offset) }
        return EnginePacket(message: .binary(bytes))
    }

    /// Appends the polling encoding of `packets` to `buffer`.
    public static func encode<Packets: Sequence>(_ packets: Packets, into buffer: inout ByteBuffer)
    where Packets.Element == EnginePacket {
        var first = true
        for packet in packets {
            if !first { buffer.writeInteger(separator) }
            first = false
            if packet.isBinary {
                buffer.writeInteger(UInt8(ascii: "b"))
                Base64.encode(packet.payload.readableBytesView, into: &buffer)
            } else {
                buffer.writeInteger(packet.type.asciiDigit)
                buffer.writeImmutableBuffer(packet.payload)
            }
        }
    }

    /// The polling encoding of `packets`.
    public static func encode<Packets: Sequence>(_ packets: Packets) -> ByteBuffer where Packets.Element == EnginePacket {
        var buffer = ByteBuffer()
        encode(packets, into: &buffer)
        return buffer
    }
}
