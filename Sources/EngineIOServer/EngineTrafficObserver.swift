import EngineIOCore

/// Sees the traffic of the Engine.IO sessions opened while it is set as `EngineServer.trafficObserver`:
/// what instrumentation (such as the Socket.IO Admin UI's aggregated events) counts. Without one, nothing
/// is counted (one nil check per message).
///
/// Every call is made on the session's event loop; an observer shared by several loops must be
/// thread-safe.
public protocol EngineTrafficObserver: AnyObject, Sendable {
    /// A session opened over `transport`.
    func sessionOpened(_ session: EngineSocket, transport: EngineTransport)
    /// A session moved from long-polling to WebSocket.
    func sessionUpgraded(_ session: EngineSocket)
    /// A session ended; `wasPolling` tells whether it was still on long-polling.
    func sessionClosed(_ session: EngineSocket, reason: EngineCloseReason, wasPolling: Bool)
    /// A message (not a ping, pong or other control packet) arrived, with `bytes` of payload.
    func messageReceived(_ session: EngineSocket, bytes: Int)
    /// A message was queued for the client: `bytes` of payload.
    func messageSent(_ session: EngineSocket, bytes: Int)
}
