import EngineIOCore
import NIOCore
import SocketIOCore

/// A Socket.IO packet encoded once into the Engine.IO messages that carry it (the text, then one binary
/// message per attachment), shared by every recipient of a broadcast.
public struct EncodedMessages: Sendable {
    /// The messages, in wire order.
    public let messages: [EngineMessage]

    /// Encodes `packet`.
    public init(_ packet: SocketPacket) {
        let encoded = SocketPacketEncoder().encode(packet)
        var messages: [EngineMessage] = [.text(encoded.text)]
        messages.reserveCapacity(1 + encoded.attachments.count)
        for attachment in encoded.attachments { messages.append(.binary(attachment)) }
        self.messages = messages
    }
}
