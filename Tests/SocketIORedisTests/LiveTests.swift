import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SocketIOCore
import SocketIORedis
import SocketIOServer
import Testing

/// A real redis-server on a free loopback port (installed by scripts/setup-peers.sh; missing is a failure).
final class RedisServerProcess: @unchecked Sendable {
    let port: Int
    private var process: Process?

    init() async throws {
        // A free port: bind port 0, note it, release it.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        self.port = channel.localAddress!.port!
        try await channel.close()
        try await self.start()
    }

    var url: String { "redis://127.0.0.1:\(self.port)" }

    static var binary: String? {
        ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    func start() async throws {
        guard let binary = Self.binary else {
            Issue.record("redis-server is not installed: run scripts/setup-peers.sh")
            throw RedisError.notConnected
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--port", "\(self.port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        // Wait until it accepts connections.
        for _ in 0..<200 {
            if (try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: self.port).get().close()) != nil {
                return
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw RedisError.notConnected
    }

    func stop() {
        guard let process = self.process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    deinit { self.stop() }
}

/// Polls `condition` up to `timeout`.
func eventually(_ timeout: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

@Suite(.serialized, .timeLimit(.minutes(2))) struct LiveRedisClientTests {  // a live redis-server: a hang fails, never stalls
    @Test func commandsPipelineAndErrorsAreTyped() async throws {
        let redis = try await RedisServerProcess()
        let client = RedisClient(configuration: try RedisConfiguration(url: redis.url + "/2"))
        try await client.waitUntilConnected()
        // 200 pipelined commands answer in order.
        let futures = (0..<200).map { client.send(RedisCommand("ECHO", "m\($0)")) }
        for (index, future) in futures.enumerated() {
            #expect(try await future.get().string == "m\(index)")
        }
        #expect(try await client.send(RedisCommand("SET", "k", "v")).get() == .simpleString("OK"))
        #expect(try await client.send(RedisCommand("GET", "k")).get().string == "v")
        await #expect(throws: RedisError.self) { try await client.send(RedisCommand("NOSUCHCOMMAND")).get() }
        // The SELECT of /2 applied: database 0 does not have the key.
        let other = RedisClient(configuration: try RedisConfiguration(url: redis.url))
        try await other.waitUntilConnected()
        #expect(try await other.send(RedisCommand("GET", "k")).get() == .bulkString(nil))
        await other.shutdown()
        await client.shutdown()
        await #expect(throws: RedisError.shutdown) { try await client.send(RedisCommand("PING")).get() }
        redis.stop()
    }

    @Test func authWithPassword() async throws {
        let redis = try await RedisServerProcess()
        let admin = RedisClient(configuration: try RedisConfiguration(url: redis.url))
        try await admin.waitUntilConnected()
        _ = try await admin.send(RedisCommand("CONFIG", "SET", "requirepass", "s3cret")).get()
        let good = RedisClient(configuration: try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(redis.port)"))
        try await good.waitUntilConnected()
        #expect(try await good.send(RedisCommand("PING")).get() == .simpleString("PONG"))
        let bad = RedisClient(configuration: try RedisConfiguration(url: "redis://:wrong@127.0.0.1:\(redis.port)"))
        await #expect(throws: RedisError.notConnected) { try await bad.waitUntilConnected(timeout: .milliseconds(500)) }
        for client in [admin, good, bad] { await client.shutdown() }
        redis.stop()
    }

    @Test func pubSubSurvivesARedisRestart() async throws {
        let redis = try await RedisServerProcess()
        let received = NIOLockedValueBox<[String]>([])
        let configuration = RedisConfiguration(port: redis.port, initialReconnectDelay: .milliseconds(50), maxReconnectDelay: .milliseconds(400))
        let subscriber = RedisClient(configuration: configuration) { message in
            received.withLockedValue { $0.append("\(message.pattern ?? "-") \(message.channel) \(String(buffer: message.payload))") }
        }
        let publisher = RedisClient(configuration: configuration)
        subscriber.subscribe(["news"])
        subscriber.psubscribe(["room#*"])
        try await subscriber.waitUntilConnected()
        try await publisher.waitUntilConnected()
        #expect(await eventually { (try? await publisher.publish("news", ByteBuffer(string: "1")).get()) == 1 })
        _ = try await publisher.publish("room#a", ByteBuffer(string: "2")).get()
        #expect(await eventually { received.withLockedValue { $0 } == ["- news 1", "room#* room#a 2"] })

        redis.stop()
        #expect(await eventually { !publisher.isConnected && !subscriber.isConnected })
        await #expect(throws: RedisError.notConnected) { try await publisher.publish("news", ByteBuffer(string: "lost")).get() }

        try await redis.start()
        try await subscriber.waitUntilConnected()
        try await publisher.waitUntilConnected()
        // Resubscribed to both the channel and the pattern.
        #expect(await eventually { (try? await publisher.numberOfSubscribers("news").get()) == 1 })
        _ = try await publisher.publish("news", ByteBuffer(string: "3")).get()
        _ = try await publisher.publish("room#b", ByteBuffer(string: "4")).get()
        #expect(await eventually { received.withLockedValue { $0.suffix(2) } == ["- news 3", "room#* room#b 4"] })
        await subscriber.shutdown()
        await publisher.shutdown()
        redis.stop()
    }
}

@Suite(.serialized, .timeLimit(.minutes(2))) struct LiveRedisAdapterTests {  // a live redis-server: a hang fails, never stalls
    /// Three Socket.IO servers (no HTTP listener needed) in one cluster.
    func cluster(_ redis: RedisServerProcess, requestsTimeout: Duration = .seconds(2)) async throws -> [(SocketIO, RedisAdapterFactory)] {
        var nodes: [(SocketIO, RedisAdapterFactory)] = []
        for _ in 0..<3 {
            let factory = try RedisAdapterFactory(url: redis.url, options: RedisAdapterOptions(requestsTimeout: requestsTimeout))
            let io = SocketIO(configuration: SocketIOServerConfiguration(adapter: factory.adapter))
            _ = io.sockets  // creates the main namespace and its adapter
            try await factory.waitUntilConnected()
            nodes.append((io, factory))
        }
        // Every node subscribed to the request channel.
        #expect(await eventually { (try? await nodes[0].1.publisher.numberOfSubscribers("socket.io-request#/#").get()) == 3 })
        return nodes
    }

    @Test func serverSideEmitWithAndWithoutAcks() async throws {
        let redis = try await RedisServerProcess()
        let nodes = try await cluster(redis)
        let seen = NIOLockedValueBox<[String]>([])
        for (index, (io, _)) in nodes.enumerated() {
            io.sockets.onServerSideEmit { arguments, ack in
                seen.withLockedValue { $0.append("\(index):\(arguments.first?.stringValue ?? "?")") }
                ack?([.string("node\(index)"), "ignored"])
            }
        }
        // Without acks: every other node receives it, the sender does not.
        #expect(try await nodes[0].0.serverSideEmit(["hello", 1]) == [])
        #expect(await eventually { seen.withLockedValue { $0.sorted() } == ["1:hello", "2:hello"] })
        // With acks: the first argument of each other node's answer.
        let answers = try await nodes[1].0.serverSideEmit(["question"], timeout: .seconds(2))
        #expect(answers.compactMap(\.stringValue).sorted() == ["node0", "node2"])
        for (_, factory) in nodes { await factory.shutdown() }
        redis.stop()
    }

    @Test func requestsTimeOutWithAClearError() async throws {
        let redis = try await RedisServerProcess()
        let nodes = try await cluster(redis, requestsTimeout: .milliseconds(300))
        nodes[1].0.sockets.onServerSideEmit { _, ack in ack?(["yes"]) }
        nodes[2].0.sockets.onServerSideEmit { _, _ in }  // never answers
        do {
            _ = try await nodes[0].0.serverSideEmit(["q"], timeout: .milliseconds(300))
            Issue.record("expected a timeout")
        } catch let error as RedisError {
            #expect(error.isRequestTimeout)
            #expect("\(error)".contains("1 of 2 nodes answered"))
        }
        // fetchSockets and allRooms across nodes (no sockets: empty, but every node answered).
        #expect(try await nodes[0].0.fetchSockets().isEmpty)
        let adapter = try #require(nodes[2].0.sockets.adapter as? RedisAdapter)
        #expect(try await adapter.allRooms().isEmpty)
        for (_, factory) in nodes { await factory.shutdown() }
        redis.stop()
    }

    @Test func keepsWorkingWithoutRedis() async throws {
        let redis = try await RedisServerProcess()
        let nodes = try await cluster(redis)
        redis.stop()
        #expect(await eventually { !nodes[0].1.publisher.isConnected })
        // Broadcasts and queries do not fail or block while Redis is away.
        nodes[0].0.emit("nobody", 1)
        #expect(try await nodes[0].0.fetchSockets().isEmpty)
        #expect(try await nodes[0].0.serverSideEmit(["q"], timeout: .milliseconds(200)) == [])
        for (_, factory) in nodes { await factory.shutdown() }
    }
}
