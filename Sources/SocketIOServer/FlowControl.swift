import NIOCore

/// Back-pressure from slow recipients to the connections whose events fan out to them, so that a client
/// that reads, only slower than a publisher, still gets everything while the server's memory stays bounded.
///
/// A recipient is congested when more than `highWaterMark` bytes wait to be sent to it. The connection
/// whose event handler sent a packet to a congested recipient (the publisher, possibly the recipient
/// itself) is read no further until every recipient it is waiting for has drained (below half the mark):
/// its own TCP window then fills and the client's sends slow down. A congested recipient that takes no
/// bytes at all for `stallTimeout` is disconnected (reason `send buffer full`), which frees its
/// publishers; with connection state recovery on, it may come back and get what it missed.
///
/// Only packets sent from a socket's event handlers have a publisher to slow down. Packets sent from
/// elsewhere (a timer, another task, another node through an adapter) are bounded by
/// `EngineServerConfiguration.maxBufferedBytes` alone, past which the recipient is disconnected; keep
/// `highWaterMark` below it.
public struct FlowControl: Sendable {
    /// The bytes waiting for one recipient past which its publishers are held back (default 1 MiB).
    public var highWaterMark: Int
    /// How long a congested recipient may take no bytes at all before it is disconnected (default 10 s).
    public var stallTimeout: Duration

    /// Creates the options.
    public init(highWaterMark: Int = 1 << 20, stallTimeout: Duration = .seconds(10)) {
        self.highWaterMark = highWaterMark
        self.stallTimeout = stallTimeout
    }
}
