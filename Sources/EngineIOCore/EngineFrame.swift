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
    /// The complete server-to-client WebSocket frame (unmasked header, then `bytes`, sharing storage),
    /// when built: a broadcast writes it as is to every WebSocket recipient without compression.
    public let webSocketFrame: ByteBuffer?
    /// Whether permessage-deflate may compress this frame (Socket.IO's `compress(false)` clears it).
    public var compress: Bool = true

    /// A frame from bytes already in wire form.
    public init(bytes: ByteBuffer, isBinary: Bool) {
        self.bytes = bytes
        self.isBinary = isBinary
        self.webSocketFrame = nil
    }

    private init(bytes: ByteBuffer, isBinary: Bool, webSocketFrame: ByteBuffer?) {
        self.bytes = bytes
        self.isBinary = isBinary
        self.webSocketFrame = webSocketFrame
    }

    /// Room left in front of a text frame for the largest WebSocket header of a server frame.
    static let headerRoom = 10

    /// The frame of `packet`.
    public init(_ packet: EnginePacket) {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(packet.payload.readableBytes + 1)
        self.isBinary = EnginePacketCodec.encode(packet, into: &buffer)
        self.bytes = buffer
        self.webSocketFrame = nil
    }

    /// A text message frame built by `write`, which appends the message after the `4` type digit. The
    /// WebSocket frame header is written in front of it in the same storage (no copy).
    public static func textMessage(capacity: Int = 64, _ write: (inout ByteBuffer) -> Void) -> EngineFrame {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(capacity + 1 + headerRoom)
        buffer.moveWriterIndex(forwardBy: headerRoom)
        buffer.writeInteger(EnginePacketType.message.asciiDigit)
        write(&buffer)
        let length = buffer.writerIndex - headerRoom
        let headerLength = length < 126 ? 2 : (length <= 0xFFFF ? 4 : 10)
        let start = headerRoom - headerLength
        buffer.setInteger(UInt8(0x81), at: start)  // FIN, text
        switch headerLength {
        case 2:
            buffer.setInteger(UInt8(length), at: start + 1)
        case 4:
            buffer.setInteger(UInt8(126), at: start + 1)
            buffer.setInteger(UInt16(length), at: start + 2)
        default:
            buffer.setInteger(UInt8(127), at: start + 1)
            buffer.setInteger(UInt64(length), at: start + 2)
        }
        // Two views of one storage (slices must start at or after the reader index, here 0).
        let frame = buffer.getSlice(at: start, length: length + headerLength)
        let message = buffer.getSlice(at: headerRoom, length: length)!
        return EngineFrame(bytes: message, isBinary: false, webSocketFrame: frame)
    }

    /// A binary message frame.
    public static func binaryMessage(_ bytes: ByteBuffer) -> EngineFrame {
        EngineFrame(bytes: bytes, isBinary: true, webSocketFrame: nil)
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
