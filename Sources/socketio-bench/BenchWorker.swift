import Foundation
import NIOCore
import NIOPosix

/// Connects a batch of clients from this process and reports on them when asked.
///
/// Protocol with the coordinator (stdin/stdout, one line each): the worker prints `ready <n>` once its
/// clients are connected; it then reads commands: `reset` (forget deliveries), `echo` (every client
/// starts an echo loop), `report` (print a `WorkerReport` as JSON), `wait N` (print `done` once N deliveries
/// arrived since the last reset, or after 5 seconds), `quit`.
struct BenchWorker {
    var target: BenchTarget
    var clients: Int
    var role: BenchRole
    var sourceIP: String?
    var rooms: Int
    var firstIndex: Int

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let stats = BenchStats()
        var connections: [BenchConnection] = []
        connections.reserveCapacity(self.clients)
        let window = 256
        var index = 0
        while index < self.clients {
            let batch = min(window, self.clients - index)
            var futures: [EventLoopFuture<Channel>] = []
            for _ in 0..<batch {
                let connection = BenchConnection(target: self.target, role: self.role, stats: stats)
                connections.append(connection)
                var bootstrap = ClientBootstrap(group: group)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(connection) }
                    }
                if let sourceIP = self.sourceIP {
                    bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: sourceIP, port: 0))
                }
                futures.append(bootstrap.connect(host: self.target.host, port: self.target.port))
            }
            for future in futures { _ = try? await future.get() }
            index += batch
            // wait for this batch's namespace handshakes before opening more
            let deadline = Date().addingTimeInterval(10)
            while stats.connectedCount + stats.snapshot.failed < index, Date() < deadline {
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        // every client either connects, fails or is closed before we report (bounded)
        let deadline = Date().addingTimeInterval(120)
        while stats.connectedCount + stats.snapshot.failed + stats.closedCount < self.clients, Date() < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        if self.rooms > 0 {
            for (offset, connection) in connections.enumerated() {
                let room = (self.firstIndex + offset) % self.rooms
                group.next().execute { connection.send(text: "42[\"join\",\"r\(room)\"]") }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        Self.say("ready \(stats.connectedCount)")
        while let line = readLine() {
            switch line {
            case "reset":
                stats.resetDeliveries()
            case "echo":
                for connection in connections { group.next().execute { connection.sendEcho() } }
            case "report":
                let data = try JSONEncoder().encode(stats.snapshot)
                Self.say(String(decoding: data, as: UTF8.self))
            case _ where line.hasPrefix("wait "):
                let count = Int(line.dropFirst(5)) ?? 0
                await stats.waitForDeliveries(count, timeout: .seconds(5))
                Self.say("done")
            case "quit":
                try? await group.shutdownGracefully()
                return
            default:
                break
            }
        }
        try? await group.shutdownGracefully()
    }

    static func say(_ line: String) {
        try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
    }
}
