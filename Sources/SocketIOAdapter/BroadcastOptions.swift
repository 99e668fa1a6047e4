import NIOCore

/// Who a broadcast reaches and how: the rooms (all sockets when empty), the rooms excluded, and flags.
public struct BroadcastOptions: Sendable, Hashable {
    /// Target rooms; empty means every socket of the namespace.
    public var rooms: Set<String>
    /// Sockets in any of these rooms are skipped.
    public var except: Set<String>
    /// Drop the packet for clients that cannot take it right now.
    public var volatile: Bool
    /// Whether the packet may be compressed (permessage-deflate).
    public var compress: Bool
    /// Only this node's sockets (with a multi-node adapter).
    public var local: Bool
    /// How long `emitWithAck` waits for acknowledgements.
    public var timeout: TimeAmount?

    /// Creates options; the defaults reach every socket of the namespace.
    public init(rooms: Set<String> = [], except: Set<String> = [], volatile: Bool = false, compress: Bool = true, local: Bool = false, timeout: TimeAmount? = nil) {
        self.rooms = rooms
        self.except = except
        self.volatile = volatile
        self.compress = compress
        self.local = local
        self.timeout = timeout
    }
}
