import Foundation
import Histogram
import NIOConcurrencyHelpers
import NIOCore

/// Where the clients connect.
struct BenchTarget: Sendable {
    var host: String
    var port: Int
    /// A bare WebSocket server (the calibration loop) rather than Socket.IO.
    var bare: Bool
}

/// The monotonic clock every process of a run shares (CLOCK_MONOTONIC), in nanoseconds.
enum BenchClock {
    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The number after the first `"t":` in a frame.
    static func timestamp(in text: ByteBuffer) -> UInt64? {
        let view = text.readableBytesView
        guard let marker = view.firstRange(of: "\"t\":".utf8) else { return nil }
        var value: UInt64 = 0
        var index = marker.upperBound
        var digits = 0
        while index < view.endIndex, view[index] >= UInt8(ascii: "0"), view[index] <= UInt8(ascii: "9") {
            value = value &* 10 &+ UInt64(view[index] &- UInt8(ascii: "0"))
            index += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}

/// Counters and a latency histogram shared by the clients of one process.
final class BenchStats: Sendable {
    private struct State {
        var connected = 0
        var closed = 0
        var failed = 0
        var delivered = 0
        var latency = Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = NIOLockedValueBox(State())

    func connected() { self.state.withLockedValue { $0.connected += 1 } }
    func closed() { self.state.withLockedValue { $0.closed += 1 } }
    func failed() { self.state.withLockedValue { $0.failed += 1 } }

    func delivered(latencyNanos: UInt64) {
        self.state.withLockedValue { state in
            state.delivered += 1
            _ = state.latency.record(max(1_000, latencyNanos))
        }
    }

    var connectedCount: Int { self.state.withLockedValue { $0.connected } }
    var closedCount: Int { self.state.withLockedValue { $0.closed } }
    var deliveredCount: Int { self.state.withLockedValue { $0.delivered } }

    /// Forgets deliveries so far (after a warm-up).
    func resetDeliveries() {
        self.state.withLockedValue { state in
            state.delivered = 0
            state.latency.reset()
        }
    }

    var snapshot: WorkerReport {
        self.state.withLockedValue { state in
            WorkerReport(connected: state.connected, failed: state.failed, closed: state.closed, delivered: state.delivered, latency: state.latency)
        }
    }
}

/// What a worker process reports to the coordinator (one JSON line).
struct WorkerReport: Codable, Sendable {
    var connected: Int
    var failed: Int
    var closed: Int
    var delivered: Int
    var latency: Histogram<UInt64>
}

/// CPU time and memory of the server under test, from /proc.
struct ServerProbe {
    let pid: Int32

    /// utime + stime in microseconds.
    func cpuMicros() -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(self.pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); utime is field 14, stime field 15
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (utime + stime) / ticks * 1_000_000
    }

    /// Resident set size in bytes.
    func residentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(self.pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count >= 2, let kb = Int(parts[1]) { return kb * 1024 }
        }
        return nil
    }
}

extension Histogram where Count == UInt64 {
    /// p50 / p99 / p99.9 in microseconds.
    var summaryMicros: (p50: Double, p99: Double, p999: Double) {
        (Double(self.valueAtPercentile(50)) / 1000, Double(self.valueAtPercentile(99)) / 1000, Double(self.valueAtPercentile(99.9)) / 1000)
    }
}
