import NIOCore

/// Connection state recovery (Socket.IO 4.6+): a client whose connection drops comes back as the same
/// socket (same id, rooms and `data`) and receives the packets it missed. Off by default, as in Node.js.
///
/// With it on, the CONNECT answer carries the session's private id (`pid`) and every event packet that
/// reaches a socket (non-volatile, without an acknowledgement) carries its offset as its last argument. A
/// client that reconnects with `{pid, offset}` in its CONNECT payload gets the socket back, then every
/// packet sent after that offset to its rooms, in order. A disconnection the client asked for, or one that
/// lasts longer than `maxDisconnectionDuration`, is not recovered.
///
/// The packets kept for recovery are bounded per namespace: by age (`maxDisconnectionDuration`) and by
/// size (`maxBufferedBytes`, the oldest evicted first). A client whose offset was evicted is not recovered
/// (it connects as a new socket, as after an expired window).
public struct ConnectionStateRecovery: Sendable {
    /// The longest disconnection that can be recovered (default 2 minutes, Node.js's).
    public var maxDisconnectionDuration: TimeAmount
    /// Whether the namespace's middlewares are skipped when a socket is recovered (default true).
    public var skipMiddlewares: Bool
    /// The most bytes of encoded packets a namespace keeps for recovery (default 32 MiB); past it, the
    /// oldest packets are dropped. Node.js keeps packets by age only.
    public var maxBufferedBytes: Int

    /// Creates the options; the defaults are Node.js's, plus the byte bound.
    public init(maxDisconnectionDuration: Duration, skipMiddlewares: Bool = true, maxBufferedBytes: Int = 32 << 20) {
        self.init(maxDisconnectionDuration: TimeAmount(maxDisconnectionDuration), skipMiddlewares: skipMiddlewares, maxBufferedBytes: maxBufferedBytes)
    }

    /// The options, with the window as a NIO `TimeAmount` (`.minutes(2)` by default).
    @_disfavoredOverload
    public init(maxDisconnectionDuration: TimeAmount = .minutes(2), skipMiddlewares: Bool = true, maxBufferedBytes: Int = 32 << 20) {
        self.maxDisconnectionDuration = maxDisconnectionDuration
        self.skipMiddlewares = skipMiddlewares
        self.maxBufferedBytes = maxBufferedBytes
    }
}
