/// Why an Engine.IO session ended, named as engine.io names it.
public struct EngineCloseReason: Hashable, Sendable, CustomStringConvertible {
    /// The reason's name (`"transport close"`, `"ping timeout"`, ...).
    public let name: String

    private init(_ name: String) { self.name = name }

    /// The client closed the connection, or sent a close packet.
    public static let transportClose = EngineCloseReason("transport close")
    /// The transport failed (a network error, a payload too large, a protocol violation).
    public static let transportError = EngineCloseReason("transport error")
    /// The client did not answer a ping within pingTimeout.
    public static let pingTimeout = EngineCloseReason("ping timeout")
    /// The server closed the session.
    public static let forcedClose = EngineCloseReason("forced close")
    /// The client sent a packet that could not be read.
    public static let parseError = EngineCloseReason("parse error")
    /// The client read too slowly: more than `maxBufferedBytes` waited to be sent to it.
    public static let sendBufferFull = EngineCloseReason("send buffer full")
    /// The server is shutting down.
    public static let serverShuttingDown = EngineCloseReason("server shutting down")

    public var description: String { self.name }
}
