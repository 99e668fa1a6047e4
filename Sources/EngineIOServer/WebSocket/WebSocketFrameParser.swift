import NIOCore
import NIOWebSocket

/// Splits the bytes a WebSocket peer sends into frames (RFC 6455 section 5.2), keeping the bytes of an
/// incomplete frame until the rest arrives. Checks only what framing needs: a frame's length against
/// `maxFrameSize` and that control frames are unfragmented and short; the frames' meaning is the
/// ``WebSocketMessageHandler``'s. Holds nothing between frames (no buffer while a connection is idle).
struct WebSocketFrameParser {
    /// One frame as received: its header bits and its payload, still masked when it has a key (a plain
    /// value: no object allocated per frame).
    struct Frame {
        var fin: Bool
        var rsv1: Bool
        var rsv2: Bool
        var rsv3: Bool
        var opcode: WebSocketOpcode
        /// The masking key's four bytes, first byte highest (nil for an unmasked frame).
        var maskKey: UInt32?
        /// The payload as sent.
        var data: ByteBuffer

        /// The payload unmasked (a copy when masked: `data` shares the bytes read from the socket).
        var unmaskedData: ByteBuffer {
            guard let maskKey = self.maskKey else { return self.data }
            var data = self.data
            data.withUnsafeMutableReadableBytes { bytes in
                for index in bytes.indices {
                    bytes[index] ^= UInt8(truncatingIfNeeded: maskKey >> (24 - 8 * (index & 3)))
                }
            }
            return data
        }
    }

    /// The largest payload accepted in one frame.
    let maxFrameSize: Int
    /// Bytes received and not yet parsed (nil when none).
    private var pending: ByteBuffer?

    init(maxFrameSize: Int) {
        self.maxFrameSize = maxFrameSize
    }

    /// Whether bytes of an incomplete frame are kept.
    var hasPendingBytes: Bool { self.pending != nil }

    /// Adds bytes read from the peer.
    mutating func append(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if var pending = self.pending.take() {
            var bytes = bytes
            pending.writeBuffer(&bytes)
            self.pending = pending
        } else {
            self.pending = bytes
        }
    }

    /// The next complete frame, or nil when more bytes are needed. After an error the parser is unusable.
    mutating func next() throws(NIOWebSocketError) -> Frame? {
        guard var buffer = self.pending.take() else { return nil }
        let start = buffer.readerIndex
        guard let frame = try self.parse(&buffer) else {
            buffer.moveReaderIndex(to: start)
            // A long partial frame: drop the bytes already parsed in front of it before more are appended.
            if buffer.readerIndex > 0, buffer.readableBytes > 0 { buffer.discardReadBytes() }
            self.pending = buffer
            return nil
        }
        self.pending = buffer.readableBytes > 0 ? buffer : nil
        return frame
    }

    private func parse(_ buffer: inout ByteBuffer) throws(NIOWebSocketError) -> Frame? {
        guard let first = buffer.readInteger(as: UInt8.self), let second = buffer.readInteger(as: UInt8.self) else {
            return nil
        }
        let fin = first & 0x80 != 0
        let opcode = WebSocketOpcode(encodedWebSocketOpcode: first & 0x0F)!
        let masked = second & 0x80 != 0
        var length = Int(second & 0x7F)
        if opcode.isControlOpcode {
            guard fin else { throw .fragmentedControlFrame }
            guard length <= 125 else { throw .multiByteControlFrameLength }
        }
        if length == 126 {
            guard let extended = buffer.readInteger(as: UInt16.self) else { return nil }
            length = Int(extended)
        } else if length == 127 {
            guard let extended = buffer.readInteger(as: UInt64.self) else { return nil }
            guard extended <= UInt64(self.maxFrameSize) else { throw .invalidFrameLength }
            length = Int(extended)
        }
        guard length <= self.maxFrameSize else { throw .invalidFrameLength }
        var maskKey: UInt32?
        if masked {
            guard let key = buffer.readInteger(as: UInt32.self) else { return nil }
            maskKey = key
        }
        guard let data = buffer.readSlice(length: length) else { return nil }
        return Frame(
            fin: fin,
            rsv1: first & 0x40 != 0,
            rsv2: first & 0x20 != 0,
            rsv3: first & 0x10 != 0,
            opcode: opcode,
            maskKey: maskKey,
            data: data
        )
    }
}
