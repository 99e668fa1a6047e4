/// The transports of Engine.IO v4.
public enum EngineTransport: String, Hashable, Sendable, CaseIterable {
    /// HTTP long-polling.
    case polling
    /// WebSocket.
    case websocket
}
