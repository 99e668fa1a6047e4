/// The type of an Engine.IO v4 packet: one ASCII digit on the wire.
public enum EnginePacketType: UInt8, Sendable, CaseIterable {
    /// Sent by the server once, with the handshake's JSON.
    case open = 0
    /// Asks the other side to close the session.
    case close = 1
    /// Heartbeat request (sent by the server in v4), or `2probe` during an upgrade.
    case ping = 2
    /// Heartbeat answer, or `3probe` during an upgrade.
    case pong = 3
    /// Application data: text or binary.
    case message = 4
    /// Completes the switch from HTTP long-polling to WebSocket.
    case upgrade = 5
    /// Does nothing; ends a pending long-polling request.
    case noop = 6

    /// The ASCII digit that encodes this type.
    @inlinable
    public var asciiDigit: UInt8 { UInt8(ascii: "0") + self.rawValue }

    /// The type encoded by an ASCII digit, if it is one.
    @inlinable
    public init?(asciiDigit: UInt8) {
        guard asciiDigit >= UInt8(ascii: "0") else { return nil }
        self.init(rawValue: asciiDigit &- UInt8(ascii: "0"))
    }
}
