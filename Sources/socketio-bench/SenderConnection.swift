import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The sending client of the broadcast scenarios. It is a receiver too: its own copy of each broadcast
/// tells it the server has processed that broadcast, which paces the next send (`inFlight` at a time).
final class SenderConnection: @unchecked Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let connection: BenchConnection
    private let stats: BenchStats
    private let loop: EventLoop
    private var continuation: AsyncStream<Void>.Continuation?
    private let deliveries: AsyncStream<Void>

    private init(group: MultiThreadedEventLoopGroup, connection: BenchConnection, stats: BenchStats) {
        self.group = group
        self.connection = connection
        self.stats = stats
        self.loop = group.next()
        var continuation: AsyncStream<Void>.Continuation!
        self.deliveries = AsyncStream { continuation = $0 }
        self.continuation = continuation
    }

    static func connect(target: BenchTarget) async throws -> SenderConnection {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let stats = BenchStats()
        let connection = BenchConnection(target: target, role: .receiver, stats: stats)
        let sender = SenderConnection(group: group, connection: connection, stats: stats)
        connection.onDelivery = { [continuation = sender.continuation] in continuation?.yield() }
        _ = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(connection) }
            }
            .connect(host: target.host, port: target.port)
            .get()
        for _ in 0..<5000 where stats.connectedCount == 0 { try await Task.sleep(for: .milliseconds(1)) }
        guard stats.connectedCount > 0 else { throw BenchError("the sender could not connect") }
        return sender
    }

    private func frame(padding: String, room: String?, bare: Bool) -> String {
        let payload = "{\"t\":\(BenchClock.now()),\"p\":\"\(padding)\"}"
        if bare { return "B" + payload }
        if let room { return "42[\"emit-to\",\"\(room)\",\"bench\",\(payload)]" }
        return "42[\"bench-broadcast\",\(payload)]"
    }

    private func send(_ text: String) {
        let connection = self.connection
        self.loop.execute { connection.send(text: text) }
    }

    /// Sends one broadcast and waits for its own copy.
    func broadcast(padding: String, room: String?, bare: Bool) async throws {
        try await self.run(count: 1, inFlight: 1, padding: padding, rooms: 0, bare: bare, fixedRoom: room)
    }

    /// Joins rooms `r0`... so that the sender gets its own copy of room broadcasts.
    func join(rooms: Int) async throws {
        for room in 0..<rooms { self.send("42[\"join\",\"r\(room)\"]") }
        try await Task.sleep(for: .milliseconds(200))
    }

    /// Sends `count` broadcasts with `inFlight` outstanding; with rooms, round-robin over `r0`... (the
    /// sender joins them all first). `pace`, when given, is awaited after each of the sender's own copies
    /// (with the number received so far) before the next broadcast leaves.
    func run(
        count: Int,
        inFlight: Int,
        padding: String,
        rooms: Int,
        bare: Bool,
        fixedRoom: String? = nil,
        pace: (@Sendable (Int) async -> Void)? = nil
    ) async throws {
        func room(_ index: Int) -> String? { fixedRoom ?? (rooms > 0 ? "r\(index % rooms)" : nil) }
        var sent = 0
        var received = 0
        while sent < min(inFlight, count) {
            self.send(self.frame(padding: padding, room: room(sent), bare: bare))
            sent += 1
        }
        for await _ in self.deliveries {
            received += 1
            if let pace { await pace(received) }
            if received >= count { break }
            if sent < count {
                self.send(self.frame(padding: padding, room: room(sent), bare: bare))
                sent += 1
            }
        }
    }

    func close() {
        try? self.group.syncShutdownGracefully()
    }
}
