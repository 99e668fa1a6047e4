import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore
@testable import SocketIORedis
import Testing

/// The Redis Streams driver on a real redis-server: the bounded, in-order append buffer through an outage,
/// the reader resuming from its last id, sessions with expiry.
@Suite(.serialized, .timeLimit(.minutes(2))) struct StreamsLiveTests {  // a live redis-server: a hang fails, never stalls
    func fields(_ n: Int) -> [(name: String, value: ByteBuffer)] { [("n", ByteBuffer(string: String(n)))] }

    @Test func appendsWaitInOrderWhileRedisIsAwayWithinTheBound() async throws {
        let redis = try await RedisServerProcess()
        var configuration = try RedisConfiguration(url: redis.url)
        configuration.maxReconnectDelay = .milliseconds(200)
        let driver = RedisStreamsDriver(configuration: configuration, maxBufferedAppends: 5)
        try await driver.waitUntilReady(timeout: .seconds(5))
        let seen = NIOLockedValueBox<[String]>([])
        driver.startReading(stream: "s") { entry in seen.withLockedValue { $0.append(entry.string("n") ?? "?") } }
        try await driver.waitUntilReady(timeout: .seconds(5))
        _ = try await driver.append(stream: "s", fields: fields(0), maxLength: 100).get()
        #expect(await eventually { seen.withLockedValue { $0 } == ["0"] })

        redis.stop()
        #expect(await eventually { !driver.commands.isConnected })
        // Five wait in the buffer; the sixth is refused at once.
        let waiting = (1...5).map { driver.append(stream: "s", fields: fields($0), maxLength: 100) }
        await #expect(throws: RedisError.tooManyPendingCommands) { try await driver.append(stream: "s", fields: fields(6), maxLength: 100).get() }

        try await redis.start()
        var ids: [String] = []
        for future in waiting { ids.append(try await future.get()) }
        #expect(ids == ids.sorted { Self.entryIdLess($0, $1) }, "appended in call order")
        // The reader resumed from its last id: every entry, once, in order (the stream is new after the
        // restart without persistence, and its ids are later than the last one read).
        #expect(await eventually(.seconds(10)) { seen.withLockedValue { $0 } == ["0", "1", "2", "3", "4", "5"] })
        await driver.shutdown()
    }

    static func entryIdLess(_ a: String, _ b: String) -> Bool {
        let x = a.split(separator: "-").compactMap { UInt64($0) }, y = b.split(separator: "-").compactMap { UInt64($0) }
        return x.lexicographicallyPrecedes(y)
    }

    @Test func sessionsExpireAndAreTakenOnce() async throws {
        let redis = try await RedisServerProcess()
        let driver = RedisStreamsDriver(configuration: try RedisConfiguration(url: redis.url))
        try await driver.waitUntilReady(timeout: .seconds(5))
        try await driver.saveSession(key: "sio:session:a", value: ByteBuffer(string: "v"), expiry: .seconds(30)).get()
        #expect(try await driver.takeSession(key: "sio:session:a").get() == ByteBuffer(string: "v"))
        #expect(try await driver.takeSession(key: "sio:session:a").get() == nil)
        try await driver.saveSession(key: "sio:session:b", value: ByteBuffer(string: "v"), expiry: .milliseconds(50)).get()
        let ttl = try await driver.commands.send(RedisCommand("PTTL", "sio:session:b")).get().int ?? -1
        #expect(ttl > 0 && ttl <= 50)
        #expect(await eventually { (try? await driver.takeSession(key: "sio:session:b").get()) == .some(nil) })
        // XRANGE from an id: what a recovering client missed
        let first = try await driver.append(stream: "r", fields: fields(1), maxLength: 100).get()
        _ = try await driver.append(stream: "r", fields: fields(2), maxLength: 100).get()
        let after = try await driver.range(stream: "r", from: RedisStreamsMessage.nextId(first), to: "+", count: 10).get()
        #expect(after.map { $0.string("n") } == ["2"])
        await driver.shutdown()
    }
}
