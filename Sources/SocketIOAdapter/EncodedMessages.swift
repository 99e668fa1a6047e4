import EngineIOCore
import NIOCore
import SocketIOCore

/// A Socket.IO packet encoded once into the Engine.IO frames that carry it (the text with its `4` prefix,
/// then one binary frame per attachment), shared by every recipient of a broadcast.
public struct EncodedMessages: Sendable {
    /// The frames, in wire order.
    public let frames: [EngineFrame]

    /// Encodes `packet`; with `compress` false, permessage-deflate leaves its frames uncompressed.
    public init(_ packet: SocketPacket, compress: Bool = true) {
        let (text, attachments) = Self.encode(packet, compress: compress)
        guard !attachments.isEmpty else {
            self.frames = [text]
            return
        }
        self.frames = [text] + attachments
    }

    /// Encodes `packet` for one recipient: the text frame, and one binary frame per attachment (an empty
    /// array, which costs no allocation, for the usual packet without any).
    package static func encode(_ packet: SocketPacket, compress: Bool = true) -> (text: EngineFrame, attachments: [EngineFrame]) {
        var attachments: [ByteBuffer] = []
        var text = EngineFrame.textMessage(capacity: 128) { buffer in
            attachments = SocketPacketEncoder().encode(packet, into: &buffer)
        }
        text.compress = compress
        guard !attachments.isEmpty else { return (text, []) }
        return (text, attachments.map { attachment in
            var frame = EngineFrame.binaryMessage(attachment)
            frame.compress = compress
            return frame
        })
    }
}
