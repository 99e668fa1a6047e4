/// Redis Cluster's key slots: `CRC16(key) mod 16384`, where CRC16 is XMODEM (polynomial 0x1021, initial
/// value 0) and a key holding a non-empty `{...}` hashes only what is between the first `{` and the next
/// `}` (a hash tag), as in the Redis Cluster specification. Sharded Pub/Sub channels map to slots the same way.
public enum RedisClusterSlot {
    /// The number of slots.
    public static let count = 16384

    private static let table: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }

    /// CRC16-XMODEM of `bytes` (`"123456789"` → 0x31C3).
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes { crc = (crc << 8) ^ self.table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)] }
        return crc
    }

    /// The slot of `key` (or of a sharded channel name).
    public static func slot(forKey key: String) -> Int {
        self.slot(forKey: Array(key.utf8))
    }

    /// The slot of the key `bytes`.
    public static func slot(forKey bytes: [UInt8]) -> Int {
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
           let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            return Int(self.crc16(bytes[(open + 1)..<close]) & 0x3FFF)
        }
        return Int(self.crc16(bytes) & 0x3FFF)
    }
}

/// A node's address in a cluster.
public struct RedisNodeAddress: Sendable, Hashable, CustomStringConvertible {
    /// Host name or address.
    public var host: String
    /// Port.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port` (the last colon separates the port, so IPv6 addresses work; brackets optional;
    /// the host may be empty, as in a `MOVED` from a node that does not know its address).
    public init?(_ text: some StringProtocol) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.init(host: host, port: port)
    }

    public var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }
}

/// A `-MOVED <slot> <host>:<port>` or `-ASK <slot> <host>:<port>` error reply: the slot lives elsewhere
/// (for good, or during a migration for the next command only).
public struct RedisRedirection: Sendable, Hashable {
    /// Whether the slot moved for good (`MOVED`) or the command is to be asked once at the importing node (`ASK`).
    public enum Kind: Sendable, Hashable {
        /// Update the slot map and send there from now on.
        case moved
        /// Send `ASKING` and the command there, once; the slot map stays.
        case ask
    }

    /// Moved or ask.
    public var kind: Kind
    /// The slot.
    public var slot: Int
    /// Where to send the command. An empty host (a node that does not know its own address) means the host
    /// of the node that answered.
    public var address: RedisNodeAddress

    /// Parses the text of an error reply (without the `-`); nil for other errors.
    public init?(errorMessage: String) {
        let parts = errorMessage.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, let slot = Int(parts[1]), (0..<RedisClusterSlot.count).contains(slot) else { return nil }
        switch parts[0] {
        case "MOVED": self.kind = .moved
        case "ASK": self.kind = .ask
        default: return nil
        }
        guard let address = RedisNodeAddress(parts[2]) else { return nil }
        self.slot = slot
        self.address = address
    }

    /// The redirection an error carries, if any.
    public init?(_ error: any Error) {
        guard let error = error as? RedisError, let message = error.serverMessage else { return nil }
        self.init(errorMessage: message)
    }
}
