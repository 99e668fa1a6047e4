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

    /// The number after the first `"t":` in a frame (a plain byte scan: the load generator must cost
    /// far less per message than the servers it measures).
    static func timestamp(in text: ByteBuffer) -> UInt64? {
        text.withUnsafeReadableBytes { bytes -> UInt64? in
            let count = bytes.count
            var index = 0
            while index + 4 <= count {
                if bytes[index] == UInt8(ascii: "\""), bytes[index + 1] == UInt8(ascii: "t"), bytes[index + 2] == UInt8(ascii: "\""),
                    bytes[index + 3] == UInt8(ascii: ":")
                {
                    var value: UInt64 = 0
                    var digit = index + 4
                    while digit < count, bytes[digit] >= UInt8(ascii: "0"), bytes[digit] <= UInt8(ascii: "9") {
                        value = value &* 10 &+ UInt64(bytes[digit] &- UInt8(ascii: "0"))
                        digit += 1
                    }
                    return digit > index + 4 ? value : nil
                }
                index += 1
            }
            return nil
        }
    }
}

/// Counters and a latency histogram shared by the clients of one process.
final class BenchStats: Sendable {
    private struct State {
        var connected = 0
        var closed = 0
        var failed = 0
        var delivered = 0
        /// Someone waiting until `delivered` reaches a count (`waitForDeliveries`).
        var waiter: (count: Int, continuation: CheckedContinuation<Void, Never>)?
        var latency = Histogram<UInt64>(lowestDiscernibleValue: 1_000, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = NIOLockedValueBox(State())

    func connected() { self.state.withLockedValue { $0.connected += 1 } }
    func closed() { self.state.withLockedValue { $0.closed += 1 } }
    func failed() { self.state.withLockedValue { $0.failed += 1 } }

    func delivered(latencyNanos: UInt64) {
        let reached = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.delivered += 1
            _ = state.latency.record(max(1_000, latencyNanos))
            guard let waiter = state.waiter, state.delivered >= waiter.count else { return nil }
            state.waiter = nil
            return waiter.continuation
        }
        reached?.resume()
    }

    /// Returns once `count` deliveries were recorded since the last reset, or after `timeout`.
    func waitForDeliveries(_ count: Int, timeout: Duration) async {
        let timer = Task {
            try await Task.sleep(for: timeout)
            let expired = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                guard let waiter = state.waiter, waiter.count == count else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            expired?.resume()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = self.state.withLockedValue { state -> Bool in
                if state.delivered >= count { return true }
                state.waiter = (count, continuation)
                return false
            }
            if now { continuation.resume() }
        }
        timer.cancel()
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
