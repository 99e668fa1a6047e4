import NIOCore

/// One Engine.IO packet encoded for the wire, as a WebSocket frame carries it: text (the type digit then
/// the payload) or binary (the raw bytes of a binary message).
///
/// Encoding a packet once into a frame lets a broadcast share the same bytes between every recipient.
public struct EngineFrame: Sendable, Hashable {
    /// The frame's bytes.
    public let bytes: ByteBuffer
    /// Whether it is a binary message.
    public let isBinary: Bool

    /// A frame from bytes already in wire form.
    public init(bytes: ByteBuffer, isBinary: Bool) {
        self.bytes = bytes
        self.isBinary = isBinary
    }

    /// The frame of `packet`.
    public init(_ packet: EnginePacket) {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(packet.payload.readableBytes + 1)
        self.isBinary = EnginePacketCodec.encode(packet, into: &buffer)
        self.bytes = buffer
    }

    /// A text message frame built by `write`, which appends the message after the `4` type digit.
    public static func textMessage(capacity: Int = 64, _ write: (inout ByteBuffer) -> Void) -> EngineFrame {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(capacity + 1)
        buffer.writeInteger(EnginePacketType.message.asciiDigit)
        write(&buffer)
        return EngineFrame(bytes: buffer, isBinary: false)
    }

    /// A binary message frame.
    public static func binaryMessage(_ bytes: ByteBuffer) -> EngineFrame {
        EngineFrame(bytes: bytes, isBinary: true)
    }

    /// The frame of a message.
    public init(message: EngineMessage) {
        switch message {
        case .binary(let bytes): self = .binaryMessage(bytes)
        case .text(let text): self = .textMessage(capacity: text.readableBytes) { $0.writeImmutableBuffer(text) }
        }
    }
}

extension PollingPayload {
    /// Appends the polling encoding of frames already in wire form to `buffer`.
    public static func encode<Frames: Sequence>(frames: Frames, into buffer: inout ByteBuffer) where Frames.Element == EngineFrame {
        var first = true
        for frame in frames {
            if !first { buffer.writeInteger(separator) }
            first = false
            if frame.isBinary {
                buffer.writeInteger(UInt8(ascii: "b"))
                Base64.encode(frame.bytes.readableBytesView, into: &buffer)
            } else {
                buffer.writeImmutableBuffer(frame.bytes)
            }
        }
    }
}
