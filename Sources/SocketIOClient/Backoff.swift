/// The reconnection delay of the JavaScript client (`backo2`): `minimum × factor^attempt`, moved by up to
/// ± `jitter` of itself, capped at `maximum`.
///
/// With jitter `j`, the delay of attempt `n` (counting from 0) lies in
/// `[minimum·factor^n·(1−j), min(maximum, minimum·factor^n·(1+j))]`, and never above `maximum`.
public struct Backoff: Sendable, Hashable {
    /// The delay of the first attempt before jitter, in milliseconds (`reconnectionDelay`).
    public var minimum: Int
    /// The largest delay, in milliseconds (`reconnectionDelayMax`).
    public var maximum: Int
    /// The growth factor between attempts.
    public var factor: Double
    /// The randomization factor, between 0 and 1 (`randomizationFactor`).
    public var jitter: Double
    /// How many delays have been handed out since the last reset.
    public private(set) var attempts = 0

    /// Creates a backoff.
    public init(minimum: Int = 1000, maximum: Int = 5000, factor: Double = 2, jitter: Double = 0.5) {
        self.minimum = max(0, minimum)
        self.maximum = max(self.minimum, maximum)
        self.factor = factor
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The next delay in milliseconds; `random` is a number in `[0, 1)`.
    public mutating func next(random: Double) -> Int {
        let base = Double(self.minimum) * pow(self.factor, Double(self.attempts))
        self.attempts += 1
        var milliseconds = base
        if self.jitter > 0 {
            let deviation = (random * self.jitter * base).rounded(.down)
            milliseconds = Int((random * 10).rounded(.down)) & 1 == 0 ? base - deviation : base + deviation
        }
        guard milliseconds.isFinite else { return self.maximum }
        return Int(min(milliseconds, Double(self.maximum)))
    }

    /// The bounds of the delay of attempt `attempt` (from 0): what a test may check a delay against.
    public func bounds(ofAttempt attempt: Int) -> ClosedRange<Int> {
        let base = Double(self.minimum) * pow(self.factor, Double(attempt))
        let low = min(Double(self.maximum), (base * (1 - self.jitter)).rounded(.down))
        let high = min(Double(self.maximum), (base * (1 + self.jitter)).rounded(.up))
        return Int(low)...Int(high)
    }

    /// Starts counting attempts from zero again.
    public mutating func reset() {
        self.attempts = 0
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var count = Int(exponent)
        while count > 0 && result.isFinite {
            result *= base
            count -= 1
        }
        return result
    }
}
