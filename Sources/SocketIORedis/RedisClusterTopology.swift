/// Which master serves each slot of a Redis Cluster: built from `CLUSTER SHARDS` (Redis 7) or
/// `CLUSTER SLOTS`, corrected slot by slot by `MOVED` redirections. Pure value, no I/O.
public struct RedisClusterTopology: Sendable, Hashable {
    /// A master, the slot ranges it serves, and its replicas.
    public struct Shard: Sendable, Hashable {
        /// The master's address.
        public var master: RedisNodeAddress
        /// The master's node id, when known.
        public var masterID: String?
        /// The replicas' addresses.
        public var replicas: [RedisNodeAddress]
        /// The slot ranges served.
        public var slots: [ClosedRange<Int>]

        /// Creates a shard.
        public init(master: RedisNodeAddress, masterID: String? = nil, replicas: [RedisNodeAddress] = [], slots: [ClosedRange<Int>]) {
            self.master = master
            self.masterID = masterID
            self.replicas = replicas
            self.slots = slots
        }
    }

    /// The shards (masters with no slot included).
    public private(set) var shards: [Shard]
    /// slot → index in `shards`, or -1 when no master serves it.
    private var owners: [Int16]

    /// A topology of `shards`; a slot claimed twice goes to the later shard.
    public init(shards: [Shard]) {
        self.shards = shards
        self.owners = Array(repeating: -1, count: RedisClusterSlot.count)
        for (index, shard) in shards.enumerated() {
            for range in shard.slots where range.lowerBound >= 0 && range.upperBound < RedisClusterSlot.count {
                for slot in range { self.owners[slot] = Int16(index) }
            }
        }
    }

    /// The masters' addresses, in shard order.
    public var masters: [RedisNodeAddress] { self.shards.map(\.master) }

    /// The master serving `slot`, if any.
    public func master(forSlot slot: Int) -> RedisNodeAddress? {
        guard (0..<RedisClusterSlot.count).contains(slot) else { return nil }
        let owner = Int(self.owners[slot])
        return owner >= 0 ? self.shards[owner].master : nil
    }

    /// The master serving the slot of `key`.
    public func master(forKey key: String) -> RedisNodeAddress? {
        self.master(forSlot: RedisClusterSlot.slot(forKey: key))
    }

    /// Whether every slot is served.
    public var coversAllSlots: Bool { !self.owners.contains(-1) }

    /// Records that `slot` is now served by `address` (a `MOVED` reply); an unknown address becomes a new
    /// shard. Returns whether anything changed.
    @discardableResult
    public mutating func move(slot: Int, to address: RedisNodeAddress) -> Bool {
        guard (0..<RedisClusterSlot.count).contains(slot), self.master(forSlot: slot) != address else { return false }
        let index: Int
        if let known = self.shards.firstIndex(where: { $0.master == address }) {
            index = known
        } else {
            self.shards.append(Shard(master: address, slots: []))
            index = self.shards.count - 1
        }
        let previous = Int(self.owners[slot])
        if previous >= 0 { self.shards[previous].slots = Self.removing(slot, from: self.shards[previous].slots) }
        self.shards[index].slots.append(slot...slot)
        self.owners[slot] = Int16(index)
        return true
    }

    private static func removing(_ slot: Int, from ranges: [ClosedRange<Int>]) -> [ClosedRange<Int>] {
        ranges.flatMap { range -> [ClosedRange<Int>] in
            guard range.contains(slot) else { return [range] }
            var parts: [ClosedRange<Int>] = []
            if range.lowerBound < slot { parts.append(range.lowerBound...(slot - 1)) }
            if slot < range.upperBound { parts.append((slot + 1)...range.upperBound) }
            return parts
        }
    }

    // MARK: Parsing

    /// Parses a `CLUSTER SHARDS` reply (RESP2: each shard a flat key/value array of `slots`, pairs of
    /// bounds, and `nodes`, each a flat key/value array with `id`, `endpoint`, `ip`, `port`, `role`,
    /// `health`). `answeringHost` replaces an unknown (`?` or empty) endpoint.
    public static func parse(shardsReply reply: RESPValue, answeringHost: String) throws(RedisError) -> RedisClusterTopology {
        guard let entries = reply.elements else { throw .unexpectedReply("CLUSTER SHARDS answered \(reply)") }
        var shards: [Shard] = []
        for entry in entries {
            let fields = try Self.fields(entry)
            guard let bounds = fields["slots"]?.elements, bounds.count % 2 == 0, let nodes = fields["nodes"]?.elements else {
                throw .unexpectedReply("CLUSTER SHARDS entry without slots or nodes")
            }
            var slots: [ClosedRange<Int>] = []
            for pair in stride(from: 0, to: bounds.count, by: 2) {
                guard let low = bounds[pair].int, let high = bounds[pair + 1].int, low <= high else { throw .unexpectedReply("bad slot range") }
                slots.append(Int(low)...Int(high))
            }
            var master: (address: RedisNodeAddress, id: String?, healthy: Bool)?
            var replicas: [RedisNodeAddress] = []
            for node in nodes {
                let info = try Self.fields(node)
                guard let port = info["port"]?.int ?? info["tls-port"]?.int else { continue }
                var host = info["endpoint"]?.string ?? ""
                if host.isEmpty || host == "?" { host = info["ip"]?.string ?? "" }
                if host.isEmpty || host == "?" { host = answeringHost }
                let address = RedisNodeAddress(host: host, port: Int(port))
                let healthy = (info["health"]?.string ?? "online") != "fail"
                if info["role"]?.string == "master" {
                    // After a failover the failed old master may still be listed: a healthy one wins.
                    if master == nil || (!master!.healthy && healthy) { master = (address, info["id"]?.string, healthy) }
                } else {
                    replicas.append(address)
                }
            }
            // A crashed master whose replica took over is listed alone, with no slots: not a master to keep.
            guard let master, master.healthy || !slots.isEmpty else { continue }
            shards.append(Shard(master: master.address, masterID: master.id, replicas: replicas, slots: slots))
        }
        return RedisClusterTopology(shards: shards)
    }

    /// Parses a `CLUSTER SLOTS` reply: `[start, end, [host, port, id, ...], replicas...]` per range; an
    /// empty host is `answeringHost`.
    public static func parse(slotsReply reply: RESPValue, answeringHost: String) throws(RedisError) -> RedisClusterTopology {
        guard let entries = reply.elements else { throw .unexpectedReply("CLUSTER SLOTS answered \(reply)") }
        var shards: [Shard] = []
        func address(_ value: RESPValue) throws(RedisError) -> (RedisNodeAddress, String?) {
            guard let parts = value.elements, parts.count >= 2, let port = parts[1].int else { throw .unexpectedReply("bad node in CLUSTER SLOTS") }
            var host = parts[0].string ?? ""
            if host.isEmpty || host == "?" { host = answeringHost }
            return (RedisNodeAddress(host: host, port: Int(port)), parts.count > 2 ? parts[2].string : nil)
        }
        for entry in entries {
            guard let parts = entry.elements, parts.count >= 3, let low = parts[0].int, let high = parts[1].int, low <= high else {
                throw .unexpectedReply("bad CLUSTER SLOTS entry")
            }
            let (master, id) = try address(parts[2])
            var replicas: [RedisNodeAddress] = []
            for replica in parts.dropFirst(3) { replicas.append(try address(replica).0) }
            if let index = shards.firstIndex(where: { $0.master == master }) {
                shards[index].slots.append(Int(low)...Int(high))
            } else {
                shards.append(Shard(master: master, masterID: id, replicas: replicas, slots: [Int(low)...Int(high)]))
            }
        }
        return RedisClusterTopology(shards: shards)
    }

    /// A flat key/value array (or a RESP3 map, which arrives flattened) as a dictionary.
    private static func fields(_ value: RESPValue) throws(RedisError) -> [String: RESPValue] {
        guard let elements = value.elements, elements.count % 2 == 0 else { throw .unexpectedReply("expected a key/value list") }
        var fields: [String: RESPValue] = [:]
        for pair in stride(from: 0, to: elements.count, by: 2) {
            if let key = elements[pair].string { fields[key] = elements[pair + 1] }
        }
        return fields
    }
}
