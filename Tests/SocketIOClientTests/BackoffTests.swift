import Testing

@testable import SocketIOClient

/// A deterministic generator for the tests (SplitMix64).
struct SeededGenerator: RandomNumberGenerator, Sendable {
    var state: UInt64
    init(seed: UInt64) { self.state = seed }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Backoff")
struct BackoffTests {
    @Test("without jitter the delays double up to the maximum")
    func noJitter() {
        var backoff = Backoff(minimum: 100, maximum: 1000, jitter: 0)
        let delays = (0..<6).map { _ in backoff.next(random: 0.7) }
        #expect(delays == [100, 200, 400, 800, 1000, 1000])
        backoff.reset()
        #expect(backoff.next(random: 0.3) == 100)
    }

    @Test("with jitter every delay lies within its bounds, both sides are used, the maximum holds")
    func jitterBounds() {
        var generator = SeededGenerator(seed: 42)
        var below = 0
        var above = 0
        for _ in 0..<200 {
            var backoff = Backoff(minimum: 1000, maximum: 5000, jitter: 0.5)
            for attempt in 0..<8 {
                let delay = backoff.next(random: Double.random(in: 0..<1, using: &generator))
                let bounds = backoff.bounds(ofAttempt: attempt)
                #expect(bounds.contains(delay), "attempt \(attempt): \(delay) outside \(bounds)")
                #expect(delay <= 5000)
                if attempt == 0 {
                    if delay < 1000 { below += 1 }
                    if delay > 1000 { above += 1 }
                }
            }
        }
        #expect(below > 20 && above > 20)
    }

    @Test("the JavaScript formula: even tenths subtract, odd tenths add")
    func formula() {
        var backoff = Backoff(minimum: 1000, maximum: 10000, jitter: 0.5)
        #expect(backoff.next(random: 0.25) == 1000 - 125)  // floor(2.5) = 2, even
        #expect(backoff.next(random: 0.35) == 2000 + 350)  // floor(3.5) = 3, odd
    }
}

@Suite("Reconnection state machine")
struct ReconnectionStateMachineTests {
    typealias Machine = ReconnectionStateMachine<SeededGenerator>

    @Test("connect, lose the connection, reconnect after a delay within bounds, reset the backoff")
    func reconnects() {
        var machine = Machine(backoff: Backoff(minimum: 100, maximum: 400, jitter: 0.5), generator: SeededGenerator(seed: 1))
        #expect(machine.connect() == [.openConnection])
        #expect(machine.opened() == [.connected])
        let lost = machine.connectionLost()
        guard case .scheduleReconnect(1, let delay)? = lost.first else {
            Issue.record("expected a scheduled reconnection, got \(lost)")
            return
        }
        #expect((50...150).contains(delay))
        #expect(machine.timerFired() == [.emitReconnectAttempt(1), .openConnection])
        // The attempt fails: reconnect_error, then attempt 2 with a larger delay.
        let failed = machine.openFailed()
        #expect(failed.first == .emitReconnectError)
        guard case .scheduleReconnect(2, let second)? = failed.last else {
            Issue.record("expected attempt 2, got \(failed)")
            return
        }
        #expect((100...300).contains(second))
        #expect(machine.timerFired() == [.emitReconnectAttempt(2), .openConnection])
        #expect(machine.opened() == [.emitReconnect(2), .connected])
        #expect(machine.backoff.attempts == 0)
        #expect(machine.reconnected)
    }

    @Test("gives up after reconnectionAttempts with reconnect_failed")
    func givesUp() {
        var machine = Machine(reconnectionAttempts: 2, backoff: Backoff(minimum: 10, maximum: 20), generator: SeededGenerator(seed: 2))
        _ = machine.connect()
        _ = machine.opened()
        #expect(machine.connectionLost().count == 1)
        _ = machine.timerFired()
        #expect(machine.openFailed().count == 2)
        _ = machine.timerFired()
        #expect(machine.openFailed() == [.emitReconnectError, .emitReconnectFailed])
        #expect(machine.state == .idle)
    }

    @Test("no reconnection when disabled; close cancels a pending timer")
    func disabledAndClose() {
        var machine = Machine(reconnection: false, generator: SeededGenerator(seed: 3))
        _ = machine.connect()
        _ = machine.opened()
        #expect(machine.connectionLost() == [])
        var other = Machine(generator: SeededGenerator(seed: 4))
        _ = other.connect()
        #expect(other.openFailed().count == 1)  // a failed first open is retried
        #expect(other.close() == [.cancelTimer])
        #expect(other.timerFired() == [])
        #expect(other.connect() == [.openConnection])
        #expect(other.close() == [.closeConnection])
    }
}
