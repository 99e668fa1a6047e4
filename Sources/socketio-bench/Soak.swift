import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// A bounded soak: connections churn (the oldest close, new ones connect) while broadcasts flow; the
/// server's resident memory and open file descriptors are sampled so that a report can show them flat.
struct Soak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Churn connections and broadcast for a bounded time; sample server memory and fds.")
    @OptionGroup var target: TargetOptions
    @Option(help: "How long to run, in seconds.") var seconds: Double = 60
    @Option(help: "Connections replaced every second.") var churn: Int = 100
    @Option(help: "Seconds between samples.") var every: Double = 5

    func run() async throws {
        raiseOpenFileLimit()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let stats = BenchStats()
        func open() -> EventLoopFuture<Channel> {
            let connection = BenchConnection(target: self.target.target, role: .receiver, stats: stats)
            return ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(connection) }
                }
                .connect(host: self.target.host, port: self.target.port)
        }
        var channels: [Channel] = []
        for _ in 0..<self.target.clients { if let channel = try? await open().get() { channels.append(channel) } }
        let sender = try await SenderConnection.connect(target: self.target.target)
        let probe = self.target.probe
        let started = Date()
        var samples: [[String: Any]] = []
        var nextSample = started
        var opened = 0
        var closed = 0
        print("   t(s)   RSS(KiB)   fds   connected   deliveries")
        while Date().timeIntervalSince(started) < self.seconds {
            if Date() >= nextSample {
                let rss = probe?.residentBytes() ?? 0
                let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(self.target.serverPid ?? 0)/fd").count) ?? 0
                let t = Date().timeIntervalSince(started)
                print(String(format: "%7.0f %10d %5d %11d %12d", t, rss / 1024, fds, channels.count, stats.deliveredCount))
                samples.append(["t": t, "rss": rss, "fds": fds, "deliveries": stats.deliveredCount])
                nextSample = nextSample.addingTimeInterval(self.every)
            }
            // churn: the oldest close, as many new ones connect
            let leaving = channels.prefix(self.churn)
            channels.removeFirst(leaving.count)
            for channel in leaving { channel.close(promise: nil) }
            closed += leaving.count
            for _ in 0..<self.churn { if let channel = try? await open().get() { channels.append(channel) } }
            opened += self.churn
            try await sender.run(count: 10, inFlight: 4, padding: "soak", rooms: 0, bare: self.target.bare)
            try await Task.sleep(for: .milliseconds(200))
        }
        for channel in channels { channel.close(promise: nil) }
        sender.close()
        try? await group.shutdownGracefully()
        let first = samples.first ?? [:]
        let last = samples.last ?? [:]
        emitResult(
            "soak",
            ["label": self.target.label, "seconds": self.seconds, "clients": self.target.clients, "opened": opened, "closed": closed,
             "samples": samples],
            summary: "soak[\(self.target.label)]: \(opened) connections opened and \(closed) closed over \(Int(self.seconds)) s; RSS \(((first["rss"] as? Int) ?? 0) / 1024) KiB -> \(((last["rss"] as? Int) ?? 0) / 1024) KiB, fds \(first["fds"] ?? 0) -> \(last["fds"] ?? 0)"
        )
    }
}
