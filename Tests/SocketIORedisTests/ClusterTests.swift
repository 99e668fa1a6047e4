import NIOCore
import SocketIORedis
import Testing

@Suite struct RedisClusterSlotTests {
    @Test func crc16IsXModemAsRedisDocuments() {
        // The Redis Cluster specification's test vector.
        #expect(RedisClusterSlot.crc16(Array("123456789".utf8)) == 0x31C3)
        #expect(RedisClusterSlot.crc16([UInt8]()) == 0)
    }

    /// Slots as `CLUSTER KEYSLOT` answers them (checked against redis-server 7.0.15).
    @Test(arguments: [
        ("123456789", 12739), ("foo", 12182), ("bar", 5061), ("hello", 866),
        ("{user1000}.following", 3443), ("{user1000}.followers", 3443), ("user1000", 3443),
        // Hash tags as the specification describes: an empty tag hashes the whole key, the first `{` and
        // the next `}` delimit the tag.
        ("foo{}{bar}", 8363), ("foo{{bar}}zap", 4015), ("foo{bar}{zap}", 5061),
        ("socket.io#/#", 13868),
    ])
    func keySlots(key: String, slot: Int) {
        #expect(RedisClusterSlot.slot(forKey: key) == slot)
    }

    @Test func redirectionsParse() throws {
        let moved = try #require(RedisRedirection(errorMessage: "MOVED 3999 127.0.0.1:6381"))
        #expect(moved.kind == .moved && moved.slot == 3999 && moved.address == RedisNodeAddress(host: "127.0.0.1", port: 6381))
        let ask = try #require(RedisRedirection(errorMessage: "ASK 3999 10.0.0.2:7000"))
        #expect(ask.kind == .ask && ask.address.description == "10.0.0.2:7000")
        // A node that does not know its address answers ":port" (the host is the answering node's).
        let hostless = try #require(RedisRedirection(errorMessage: "MOVED 1 :7002"))
        #expect(hostless.address == RedisNodeAddress(host: "", port: 7002))
        let ipv6 = try #require(RedisRedirection(errorMessage: "MOVED 16383 ::1:7003"))
        #expect(ipv6.address.host == "::1" && ipv6.address.port == 7003 && ipv6.address.description == "[::1]:7003")
        // Through the error type, as a command's future fails.
        #expect(RedisRedirection(RedisError.server("MOVED 12 h:1"))?.slot == 12)
        for text in ["ERR unknown command", "MOVED", "MOVED x h:1", "MOVED 16384 h:1", "MOVED 1 h", "ASK 1 h:0", "TRYAGAIN Multiple keys"] {
            #expect(RedisRedirection(errorMessage: text) == nil, "\(text)")
        }
        #expect(RedisRedirection(RedisError.notConnected) == nil)
    }
}

@Suite struct RedisClusterTopologyTests {
    let a = RedisNodeAddress(host: "127.0.0.1", port: 7000)
    let b = RedisNodeAddress(host: "127.0.0.1", port: 7001)
    let c = RedisNodeAddress(host: "127.0.0.1", port: 7002)

    static func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }

    static func node(id: String, port: Int, endpoint: String = "127.0.0.1", role: String, health: String = "online") -> RESPValue {
        .array([
            bulk("id"), bulk(id), bulk("port"), .integer(Int64(port)), bulk("ip"), bulk("127.0.0.1"), bulk("endpoint"), bulk(endpoint),
            bulk("role"), bulk(role), bulk("replication-offset"), .integer(72156), bulk("health"), bulk(health),
        ])
    }

    @Test func parsesClusterShards() throws {
        // The shape redis-server 7.0 answers over RESP2.
        let reply = RESPValue.array([
            .array([Self.bulk("slots"), .array([.integer(0), .integer(5460), .integer(10923), .integer(10999)]), Self.bulk("nodes"), .array([
                Self.node(id: "m1", port: 7000, role: "master"), Self.node(id: "r1", port: 7003, role: "replica"),
            ])]),
            .array([Self.bulk("slots"), .array([.integer(5461), .integer(10922)]), Self.bulk("nodes"), .array([
                // After a failover: the failed old master is still listed; the healthy one wins. `?` endpoint: the answering host.
                Self.node(id: "old", port: 7009, role: "master", health: "fail"), Self.node(id: "m2", port: 7001, endpoint: "?", role: "master"),
            ])]),
            .array([Self.bulk("slots"), .array([.integer(11000), .integer(16383)]), Self.bulk("nodes"), .array([Self.node(id: "m3", port: 7002, role: "master")])]),
            // After a crash and a takeover (as redis-server 7.0 lists it): the dead master alone, no slots.
            .array([Self.bulk("slots"), .array([]), Self.bulk("nodes"), .array([Self.node(id: "dead", port: 7008, role: "master", health: "fail")])]),
        ])
        let topology = try RedisClusterTopology.parse(shardsReply: reply, answeringHost: "127.0.0.1")
        #expect(topology.masters == [a, b, c])
        #expect(topology.shards[0].replicas == [RedisNodeAddress(host: "127.0.0.1", port: 7003)])
        #expect(topology.shards[1].masterID == "m2")
        #expect(topology.master(forSlot: 0) == a && topology.master(forSlot: 5460) == a && topology.master(forSlot: 10999) == a)
        #expect(topology.master(forSlot: 5461) == b && topology.master(forSlot: 10922) == b)
        #expect(topology.master(forSlot: 11000) == c && topology.master(forSlot: 16383) == c)
        #expect(topology.master(forKey: "socket.io#/#") == c)
        #expect(topology.coversAllSlots)
        #expect(topology.master(forSlot: 16384) == nil)
    }

    @Test func parsesClusterSlots() throws {
        func node(_ host: String, _ port: Int, _ id: String) -> RESPValue { .array([Self.bulk(host), .integer(Int64(port)), Self.bulk(id)]) }
        let reply = RESPValue.array([
            .array([.integer(0), .integer(5460), node("127.0.0.1", 7000, "m1"), node("127.0.0.1", 7003, "r1")]),
            .array([.integer(5461), .integer(10922), node("", 7001, "m2")]),  // empty host: the answering node's
            .array([.integer(10923), .integer(16000), node("127.0.0.1", 7002, "m3")]),
            .array([.integer(16001), .integer(16383), node("127.0.0.1", 7000, "m1")]),
        ])
        let topology = try RedisClusterTopology.parse(slotsReply: reply, answeringHost: "127.0.0.1")
        #expect(topology.masters == [a, b, c])
        #expect(topology.shards[0].slots == [0...5460, 16001...16383])
        #expect(topology.master(forSlot: 16383) == a && topology.master(forSlot: 7000) == b)
        #expect(throws: RedisError.self) { try RedisClusterTopology.parse(slotsReply: .array([.array([.integer(1)])]), answeringHost: "h") }
        #expect(throws: RedisError.self) { try RedisClusterTopology.parse(shardsReply: .integer(1), answeringHost: "h") }
    }

    @Test func movedUpdatesOneSlot() {
        var topology = RedisClusterTopology(shards: [.init(master: a, slots: [0...8191]), .init(master: b, slots: [8192...16383])])
        let moved = topology.move(slot: 100, to: b)
        let movedAgain = topology.move(slot: 100, to: b)
        #expect(moved && !movedAgain)  // the second time, nothing new
        #expect(topology.master(forSlot: 100) == b && topology.master(forSlot: 99) == a && topology.master(forSlot: 101) == a)
        #expect(topology.shards[0].slots == [0...99, 101...8191])
        // A master never seen: a new shard.
        let movedToNew = topology.move(slot: 0, to: c)
        #expect(movedToNew)
        #expect(topology.masters == [a, b, c] && topology.master(forSlot: 0) == c)
        #expect(RedisClusterTopology(shards: [.init(master: a, slots: [0...100])]).coversAllSlots == false)
    }
}
