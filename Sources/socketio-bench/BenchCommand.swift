import ArgumentParser
import Foundation
import Histogram
import NIOCore
import NIOPosix

/// A lean load generator for Socket.IO servers (and the bare calibration loop).
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio-bench",
        abstract: "Load generator: connect, broadcast, rooms and echo scenarios against a Socket.IO server.",
        subcommands: [Connect.self, Broadcast.self, Rooms.self, Echo.self, Soak.self, BareServerCommand.self, Worker.self]
    )
}

/// Options every scenario shares.
struct TargetOptions: ParsableArguments {
    @Option(help: "Server host (127.0.0.1).") var host = "127.0.0.1"
    @Option(help: "Server port.") var port: Int = 3000
    @Flag(help: "The server is the bare WebSocket loop (bare-server), not Socket.IO.") var bare = false
    @Option(help: "Clients (receivers / echoers / idle connections).") var clients: Int = 1000
    @Option(help: "Worker processes holding the clients (each process may hold < 20,000 sockets).") var processes: Int = 1
    @Option(help: "Client source addresses 127.0.0.1 ... 127.0.0.N, spread over the workers.") var sourceIPs: Int = 4
    @Option(help: "Offset of the first source address (127.0.0.<1+offset>...): successive runs may use fresh addresses, so that no connection waits on a port still in TIME_WAIT from the previous run.")
    var sourceIPOffset: Int = 0
    @Option(help: "PID of the server, for CPU and memory figures from /proc.") var serverPid: Int32?
    @Option(help: "A label for the JSON line (e.g. 'swift', 'python', 'bare').") var label = "server"

    var target: BenchTarget { BenchTarget(host: self.host, port: self.port, bare: self.bare) }

    /// Starts the workers and waits until all their clients are connected.
    func startWorkers(role: BenchRole, rooms: Int = 0) throws -> [WorkerProcess] {
        let perWorker = (self.clients + self.processes - 1) / self.processes
        var workers: [WorkerProcess] = []
        var first = 0
        for index in 0..<self.processes where first < self.clients {
            let count = min(perWorker, self.clients - first)
            var arguments = ["--host", self.host, "--port", String(self.port), "--clients", String(count), "--role", role.rawValue,
                             "--rooms", String(rooms), "--first-index", String(first),
                             "--source-ip", "127.0.0.\(1 + (self.sourceIPOffset + index % max(1, self.sourceIPs)) % 250)"]
            if self.bare { arguments.append("--bare") }
            workers.append(try WorkerProcess(arguments: arguments))
            first += count
        }
        for worker in workers {
            guard let line = worker.readLine(), line.hasPrefix("ready") else { throw BenchError("a worker failed to start") }
            worker.clients = Int(line.dropFirst("ready ".count)) ?? 0
        }
        return workers
    }

    func merged(_ workers: [WorkerProcess]) throws -> WorkerReport {
        var total = WorkerReport(connected: 0, failed: 0, closed: 0, delivered: 0, latency: Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three))
        for worker in workers {
            let report = try worker.report()
            total.connected += report.connected
            total.failed += report.failed
            total.closed += report.closed
            total.delivered += report.delivered
            total.latency.add(report.latency)
        }
        return total
    }

    var probe: ServerProbe? { self.serverPid.map(ServerProbe.init(pid:)) }
}

/// Prints the human summary and the JSON line.
func emitResult(_ scenario: String, _ fields: [String: Any], summary: String) {
    print(summary)
    var object = fields
    object["scenario"] = scenario
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
        print(String(decoding: data, as: UTF8.self))
    }
}

struct Connect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Connect N idle clients; handshake rate and server memory per connection.")
    @OptionGroup var target: TargetOptions
    @Option(help: "Seconds to hold the connections (heartbeats running) before measuring memory.") var hold: Double = 2

    func run() async throws {
        let rssBefore = self.target.probe?.residentBytes()
        let started = Date()
        let workers = try self.target.startWorkers(role: .idle)
        let elapsed = Date().timeIntervalSince(started)
        try await Task.sleep(for: .seconds(self.hold))
        let rssAfter = self.target.probe?.residentBytes()
        let report = try self.target.merged(workers)
        for worker in workers { worker.quit() }
        let rate = Double(report.connected) / elapsed
        var fields: [String: Any] = ["label": self.target.label, "clients": self.target.clients, "connected": report.connected, "handshakes_per_s": rate]
        var summary = "connect[\(self.target.label)]: \(report.connected)/\(self.target.clients) connected in \(String(format: "%.2f", elapsed)) s (\(Int(rate))/s)"
        if let rssBefore, let rssAfter, report.connected > 0 {
            let perConnection = Double(rssAfter - rssBefore) / Double(report.connected)
            fields["rss_before"] = rssBefore
            fields["rss_after"] = rssAfter
            fields["bytes_per_connection"] = perConnection
            summary += ", RSS \(rssBefore / 1024) KiB -> \(rssAfter / 1024) KiB, \(Int(perConnection)) B per connection"
        }
        emitResult("connect", fields, summary: summary)
    }
}

/// Sends `messages` broadcasts with at most `inFlight` unacknowledged (the sender's own copy closes the
/// loop), and measures deliveries across every receiver.
struct BroadcastRunner {
    let target: TargetOptions
    let messages: Int
    let size: Int
    let inFlight: Int
    let rooms: Int
    /// Broadcasts sent before the measurement (not counted, but kept by a server with recovery on).
    static let warmUpBroadcasts = 20

    func run(scenario: String) async throws {
        let workers = try self.target.startWorkers(role: .receiver, rooms: self.rooms)
        // resident memory once everyone is connected and before any broadcast: with connection state
        // recovery on, what the run adds is mostly the packets the server keeps
        let rssBefore = self.target.probe?.residentBytes()
        let sender = try await SenderConnection.connect(target: self.target.target)
        let padding = String(repeating: "x", count: max(0, self.size - 40))
        if self.rooms > 0 { try await sender.join(rooms: self.rooms) }
        // warm-up; the receivers may still be reading it when the sender has its own copies: wait until their
        // count stops moving (bounded), so that none of it is counted in the measurement
        for _ in 0..<Self.warmUpBroadcasts { try await sender.broadcast(padding: padding, room: self.rooms > 0 ? "r0" : nil, bare: self.target.bare) }
        var settled = try self.target.merged(workers).delivered
        for _ in 0..<50 {
            try await Task.sleep(for: .milliseconds(100))
            let now = try self.target.merged(workers).delivered
            if now == settled { break }
            settled = now
        }
        for worker in workers { worker.send("reset") }
        try await Task.sleep(for: .milliseconds(200))
        let cpuBefore = self.target.probe?.cpuMicros()
        let started = Date()
        // One at a time means each broadcast reaches every receiver before the next is sent: the sender's
        // own copy only says the server has written it, and the receivers (on the load generator's single
        // core) may still be reading, which would queue the next broadcast behind the previous one and
        // measure the load generator's backlog instead of the server's latency.
        var pace: (@Sendable (Int) async -> Void)? = nil
        if self.inFlight == 1 && self.rooms == 0 {
            pace = { received in
                for worker in workers { worker.waitForDeliveries(received * worker.clients) }
            }
        }
        try await sender.run(count: self.messages, inFlight: self.inFlight, padding: padding, rooms: self.rooms, bare: self.target.bare, pace: pace)
        // The receivers may lag behind the sender: wait until every delivery arrived (or none arrives
        // any more for a second, bounded to a minute).
        let expected = self.messages * (self.rooms > 0 ? self.target.clients / self.rooms : self.target.clients)
        var report = try self.target.merged(workers)
        var lastProgress = Date()
        var finished = started
        while report.delivered < expected, Date().timeIntervalSince(lastProgress) < 1, Date().timeIntervalSince(started) < 60 {
            try await Task.sleep(for: .milliseconds(250))
            let next = try self.target.merged(workers)
            if next.delivered > report.delivered { lastProgress = Date() }
            report = next
        }
        finished = report.delivered >= expected ? Date() : lastProgress
        let elapsed = finished.timeIntervalSince(started)
        let cpuAfter = self.target.probe?.cpuMicros()
        let rssAfter = self.target.probe?.residentBytes()
        for worker in workers { worker.quit() }
        sender.close()
        let rate = Double(report.delivered) / elapsed
        let (p50, p99, p999) = report.latency.summaryMicros
        var fields: [String: Any] = [
            "label": self.target.label, "clients": self.target.clients, "messages": self.messages, "size": self.size, "expected": expected,
            "in_flight": self.inFlight, "rooms": self.rooms, "delivered": report.delivered, "deliveries_per_s": rate,
            "p50_us": p50, "p99_us": p99, "p999_us": p999, "broadcasts_sent": self.messages + Self.warmUpBroadcasts,
        ]
        if let rssBefore, let rssAfter {
            fields["rss_before"] = rssBefore
            fields["rss_after"] = rssAfter
        }
        var summary = "\(scenario)[\(self.target.label)]: \(report.delivered) deliveries to \(report.connected) clients in \(String(format: "%.2f", elapsed)) s: \(Int(rate)) msg/s, latency p50 \(Int(p50)) us, p99 \(Int(p99)) us, p99.9 \(Int(p999)) us"
        if let cpuBefore, let cpuAfter, report.delivered > 0 {
            let perDelivery = (cpuAfter - cpuBefore) / Double(report.delivered)
            fields["server_cpu_us_per_delivery"] = perDelivery
            summary += ", server CPU \(String(format: "%.2f", perDelivery)) us per delivery"
        }
        emitResult(scenario, fields, summary: summary)
    }
}

struct Broadcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "One sender, N receivers: delivered msgs/s, latency, server CPU per delivery.")
    @OptionGroup var target: TargetOptions
    @Option(help: "Broadcasts to send.") var messages: Int = 200
    @Option(help: "Approximate payload size in bytes.") var size: Int = 100
    @Option(help: "Broadcasts in flight (1: one at a time; 16: bursts).") var inFlight: Int = 1

    func run() async throws {
        try await BroadcastRunner(target: self.target, messages: self.messages, size: self.size, inFlight: self.inFlight, rooms: 0).run(scenario: "broadcast")
    }
}

struct Rooms: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Room-targeted broadcasts: clients spread over R rooms, each broadcast to one room.")
    @OptionGroup var target: TargetOptions
    @Option(help: "Rooms.") var rooms: Int = 10
    @Option(help: "Broadcasts to send.") var messages: Int = 500
    @Option(help: "Approximate payload size in bytes.") var size: Int = 100
    @Option(help: "Broadcasts in flight.") var inFlight: Int = 1

    func run() async throws {
        try await BroadcastRunner(target: self.target, messages: self.messages, size: self.size, inFlight: self.inFlight, rooms: self.rooms).run(scenario: "rooms")
    }
}

struct Echo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Events with acks: round trips per second and latency.")
    @OptionGroup var target: TargetOptions
    @Option(help: "Seconds to run.") var seconds: Double = 5

    func run() async throws {
        let workers = try self.target.startWorkers(role: .echo)
        for worker in workers { worker.send("echo") }
        try await Task.sleep(for: .seconds(0.5))
        for worker in workers { worker.send("reset") }
        let cpuBefore = self.target.probe?.cpuMicros()
        let started = Date()
        try await Task.sleep(for: .seconds(self.seconds))
        let report = try self.target.merged(workers)
        let elapsed = Date().timeIntervalSince(started)
        let cpuAfter = self.target.probe?.cpuMicros()
        for worker in workers { worker.quit() }
        let rate = Double(report.delivered) / elapsed
        let (p50, p99, p999) = report.latency.summaryMicros
        var fields: [String: Any] = [
            "label": self.target.label, "clients": self.target.clients, "round_trips": report.delivered, "round_trips_per_s": rate,
            "p50_us": p50, "p99_us": p99, "p999_us": p999,
        ]
        var summary = "echo[\(self.target.label)]: \(report.delivered) round trips from \(report.connected) clients: \(Int(rate))/s, p50 \(Int(p50)) us, p99 \(Int(p99)) us"
        if let cpuBefore, let cpuAfter, report.delivered > 0 {
            let perTrip = (cpuAfter - cpuBefore) / Double(report.delivered)
            fields["server_cpu_us_per_round_trip"] = perTrip
            summary += ", server CPU \(String(format: "%.2f", perTrip)) us per round trip"
        }
        emitResult("echo", fields, summary: summary)
    }
}

struct BareServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bare-server", abstract: "The bare SwiftNIO WebSocket broadcast/echo loop, for calibration.")
    @Option var host = "127.0.0.1"
    @Option var port: Int = 3100

    func run() async throws {
        try await BareServer.run(host: self.host, port: self.port)
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "(internal) a process of clients driven by a scenario.", shouldDisplay: false)
    @Option var host = "127.0.0.1"
    @Option var port: Int = 3000
    @Flag var bare = false
    @Option var clients: Int = 1
    @Option var role: String = "receiver"
    @Option var rooms: Int = 0
    @Option var firstIndex: Int = 0
    @Option var sourceIP: String?

    func run() async throws {
        raiseOpenFileLimit()
        try await BenchWorker(
            target: BenchTarget(host: self.host, port: self.port, bare: self.bare),
            clients: self.clients,
            role: BenchRole(rawValue: self.role) ?? .receiver,
            sourceIP: self.sourceIP,
            rooms: self.rooms,
            firstIndex: self.firstIndex
        ).run()
    }
}
