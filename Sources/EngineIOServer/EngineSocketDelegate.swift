import EngineIOCore

/// Receives what happens on one Engine.IO session. Every call is made on the session's event loop, in
/// the order things happened.
public protocol EngineSocketDelegate: AnyObject {
    /// A message arrived.
    func engineSocket(_ socket: EngineSocket, didReceive message: EngineMessage)
    /// The session ended; no call follows this one.
    func engineSocket(_ socket: EngineSocket, didCloseWith reason: EngineCloseReason)
    /// What waited to be sent has (partly) left: the WebSocket became writable again, or a long-polling
    /// GET took queued packets. ``EngineSocket/bufferedBytes`` tells how much is still waiting.
    func engineSocketDidDrain(_ socket: EngineSocket)
    /// The session moved from long-polling to WebSocket (``EngineSocket/transportName`` is now
    /// `.websocket`).
    func engineSocketDidUpgrade(_ socket: EngineSocket)
}

extension EngineSocketDelegate {
    /// Does nothing: a delegate that does not track what waits to be sent need not implement it.
    public func engineSocketDidDrain(_ socket: EngineSocket) {}
    /// Does nothing: a delegate need not follow upgrades.
    public func engineSocketDidUpgrade(_ socket: EngineSocket) {}
}
