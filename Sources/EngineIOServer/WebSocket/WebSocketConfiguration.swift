import NIOCore

/// Limits and options of one WebSocket connection (RFC 6455), shared by the handshake, the frame decoder and
/// ``WebSocketMessageHandler``.
public struct WebSocketConfiguration: Sendable {
    /// Largest frame payload accepted from the peer, in bytes. The frame decoder buffers a whole frame before
    /// handing it on, so this also bounds the memory one frame can take. A larger frame closes with 1009.
    public var maxFrameSize: Int
    /// Largest complete message (after reassembly and decompression), in bytes. A larger one closes with 1009.
    /// Engine.IO sets it from `maxHttpBufferSize`.
    public var maxMessageSize: Int
    /// permessage-deflate (RFC 7692) options; `nil` disables the extension.
    public var permessageDeflate: PerMessageDeflateConfiguration?
    /// How long a closing side waits for the peer's close frame before it closes TCP anyway.
    public var closeTimeout: TimeAmount

    /// Creates a configuration.
    /// - Parameters:
    ///   - maxFrameSize: largest frame payload accepted (default 1 MiB + 64 KiB, at most `UInt32.max`).
    ///   - maxMessageSize: largest message accepted (default 1 MiB).
    ///   - permessageDeflate: permessage-deflate options, or `nil` (the default) to disable it.
    ///   - closeTimeout: how long to wait for the peer's close frame (default 5 seconds).
    public init(
        maxFrameSize: Int = (1 << 20) + (1 << 16),
        maxMessageSize: Int = 1 << 20,
        permessageDeflate: PerMessageDeflateConfiguration? = nil,
        closeTimeout: TimeAmount = .seconds(5)
    ) {
        precondition(maxFrameSize > 0 && maxFrameSize <= Int(UInt32.max), "maxFrameSize must be in 1...UInt32.max")
        precondition(maxMessageSize > 0, "maxMessageSize must be positive")
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.permessageDeflate = permessageDeflate
        self.closeTimeout = closeTimeout
    }
}
