import NIOCore
import Testing

@testable import SocketIORedis

/// docs/scaling-out.md: when Redis goes away, nodes reconnect with exponential backoff, 100 ms doubling
/// to 5 s, with jitter. The interop test `test_cluster_redis_outage.py` checks from outside that no node
/// attempts more often than this schedule allows; this checks the schedule itself.
@Suite struct ReconnectBackoffTests {
    @Test("the reconnection delay starts at 100 ms, doubles after each failure and stays at 5 s, within ±20 %")
    func schedule() throws {
        let configuration = try RedisConfiguration(url: "redis://127.0.0.1:6379")
        #expect(configuration.initialReconnectDelay == .milliseconds(100))
        #expect(configuration.maxReconnectDelay == .seconds(5))
        for failures in 0..<40 {
            let base = min(100 << min(failures, 20), 5000)  // milliseconds
            // in nanoseconds, with 1 µs for the floating-point jitter's rounding
            let lowest = Int64(Double(base) * 0.8) * 1_000_000 - 1000
            let highest = min(Int64(Double(base) * 1.2), 5000) * 1_000_000 + 1000
            for _ in 0..<100 {
                let delay = RedisClient.backoff(
                    failures: failures,
                    initial: TimeAmount(configuration.initialReconnectDelay),
                    maximum: TimeAmount(configuration.maxReconnectDelay)
                ).nanoseconds
                #expect(delay >= lowest && delay <= highest, "after \(failures) failures: \(delay) ns")
            }
        }
    }
}
