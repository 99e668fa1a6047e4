/// The Manager's connection lifecycle: opening, open, waiting to reconnect, reconnecting; with exponential
/// backoff and jitter. Pure: events return actions, the Manager performs them (it owns the timers and the
/// Engine.IO connection), so the logic is tested without sockets or clocks.
public struct ReconnectionStateMachine<Generator: RandomNumberGenerator>: Sendable where Generator: Sendable {
    /// Where the connection stands.
    public enum State: Hashable, Sendable {
        /// Not connected and not trying to be.
        case idle
        /// Opening, for the first time (`attempt` 0) or as reconnection attempt `attempt`.
        case opening(attempt: Int)
        /// Open.
        case open
        /// Waiting for the timer of reconnection attempt `attempt`.
        case waiting(attempt: Int)
    }

    /// What the Manager must do.
    public enum Action: Hashable, Sendable {
        /// Open a new Engine.IO connection.
        case openConnection
        /// Close the Engine.IO connection.
        case closeConnection
        /// Start the reconnection timer; call ``timerFired()`` when it fires.
        case scheduleReconnect(attempt: Int, delayMilliseconds: Int)
        /// Cancel the reconnection timer.
        case cancelTimer
        /// Emit `reconnect_attempt` with the attempt number (from 1).
        case emitReconnectAttempt(Int)
        /// Emit `reconnect` with the number of attempts it took.
        case emitReconnect(Int)
        /// Emit `reconnect_error`.
        case emitReconnectError
        /// Emit `reconnect_failed`: no more attempts.
        case emitReconnectFailed
        /// The connection is open: connect the namespaces.
        case connected
    }

    /// Whether to reconnect at all.
    public var reconnection: Bool
    /// The most reconnection attempts before giving up.
    public var reconnectionAttempts: Int
    /// The delays.
    public private(set) var backoff: Backoff
    /// The state.
    public private(set) var state = State.idle
    /// Whether the last successful open was a reconnection.
    public private(set) var reconnected = false
    private var generator: Generator

    /// Creates the machine.
    public init(reconnection: Bool = true, reconnectionAttempts: Int = .max, backoff: Backoff = Backoff(), generator: Generator) {
        self.reconnection = reconnection
        self.reconnectionAttempts = reconnectionAttempts
        self.backoff = backoff
        self.generator = generator
    }

    /// The user asked to connect.
    public mutating func connect() -> [Action] {
        switch self.state {
        case .idle:
            self.state = .opening(attempt: 0)
            return [.openConnection]
        case .waiting:
            // Connect now rather than waiting for the timer, as an attempt.
            return [.cancelTimer] + self.timerFired()
        case .opening, .open:
            return []
        }
    }

    /// The connection opened.
    public mutating func opened() -> [Action] {
        guard case .opening(let attempt) = self.state else { return [] }
        self.state = .open
        self.reconnected = attempt > 0
        self.backoff.reset()
        return attempt > 0 ? [.emitReconnect(attempt), .connected] : [.connected]
    }

    /// The connection could not be opened.
    public mutating func openFailed() -> [Action] {
        guard case .opening(let attempt) = self.state else { return [] }
        self.state = .idle
        var actions: [Action] = attempt > 0 ? [.emitReconnectError] : []
        // Like the JavaScript client, a first open that fails is retried too when reconnection is on.
        actions += self.scheduleReconnect()
        return actions
    }

    /// The open connection was lost (not closed by the user).
    public mutating func connectionLost() -> [Action] {
        guard self.state == .open else { return [] }
        self.state = .idle
        return self.scheduleReconnect()
    }

    /// The reconnection timer fired.
    public mutating func timerFired() -> [Action] {
        guard case .waiting(let attempt) = self.state else { return [] }
        self.state = .opening(attempt: attempt)
        return [.emitReconnectAttempt(attempt), .openConnection]
    }

    /// The user closed the Manager (or its last socket left).
    public mutating func close() -> [Action] {
        let previous = self.state
        self.state = .idle
        self.backoff.reset()
        switch previous {
        case .idle: return []
        case .waiting: return [.cancelTimer]
        case .opening, .open: return [.closeConnection]
        }
    }

    private mutating func scheduleReconnect() -> [Action] {
        guard self.reconnection else { return [] }
        guard self.backoff.attempts < self.reconnectionAttempts else {
            self.backoff.reset()
            return [.emitReconnectFailed]
        }
        let random = Double.random(in: 0..<1, using: &self.generator)
        let delay = self.backoff.next(random: random)
        let attempt = self.backoff.attempts
        self.state = .waiting(attempt: attempt)
        return [.scheduleReconnect(attempt: attempt, delayMilliseconds: delay)]
    }
}
