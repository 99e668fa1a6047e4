import NIOCore

/// A complete WebSocket data message: what ``WebSocketMessageHandler`` delivers and accepts.
public enum WebSocketMessage: Sendable, Equatable {
    /// A text message; its bytes are valid UTF-8 (checked on receipt, trusted on sending).
    case text(ByteBuffer)
    /// A binary message.
    case binary(ByteBuffer)

    /// A text message from a string.
    public static func text(_ string: String) -> WebSocketMessage {
        .text(ByteBuffer(string: string))
    }

    /// The payload of either kind.
    public var data: ByteBuffer {
        switch self {
        case .text(let buffer), .binary(let buffer): return buffer
        }
    }
}
