import EngineIOCore

/// Receives what happens on one Engine.IO session. Every call is made on the session's event loop, in
/// the order things happened.
public protocol EngineSocketDelegate: AnyObject {
    /// A message arrived.
    func engineSocket(_ socket: EngineSocket, didReceive message: EngineMessage)
    /// The session ended; no call follows this one.
    func engineSocket(_ socket: EngineSocket, didCloseWith reason: EngineCloseReason)
}
