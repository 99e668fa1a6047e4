import EngineIOClient

/// What a ``Manager`` reports.
public enum ManagerEvent: Sendable {
    /// The Engine.IO connection opened.
    case open
    /// The Engine.IO connection closed.
    case close(reason: String)
    /// The Engine.IO connection moved to another transport (polling to WebSocket).
    case upgrade(EngineTransport)
    /// Opening the connection failed.
    case error(SocketClientError)
    /// A reconnection is scheduled after `delay` milliseconds (attempt numbers start at 1).
    case reconnectScheduled(attempt: Int, delayMilliseconds: Int)
    /// `reconnect_attempt`: reconnection attempt `attempt` starts.
    case reconnectAttempt(Int)
    /// `reconnect`: reconnected after `attempts` attempts.
    case reconnect(Int)
    /// `reconnect_error`: an attempt failed.
    case reconnectError(SocketClientError)
    /// `reconnect_failed`: no attempts left.
    case reconnectFailed
}
