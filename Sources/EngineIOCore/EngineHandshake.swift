import NIOCore

/// What the server announces in its open packet.
public struct EngineHandshake: Hashable, Sendable {
    /// The session id.
    public var sid: String
    /// The transports the client may upgrade to (`["websocket"]` on polling, `[]` on WebSocket).
    public var upgrades: [String]
    /// Milliseconds between the server's pings.
    public var pingInterval: Int
    /// Milliseconds the server waits for a pong.
    public var pingTimeout: Int
    /// Largest payload the server accepts, in bytes.
    public var maxPayload: Int

    /// Creates the announcement.
    public init(sid: String, upgrades: [String], pingInterval: Int, pingTimeout: Int, maxPayload: Int) {
        self.sid = sid
        self.upgrades = upgrades
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxPayload = maxPayload
    }

    /// The open packet carrying this handshake as JSON.
    public var openPacket: EnginePacket {
        var json = ByteBuffer()
        json.writeStaticString("{\"sid\":")
        JSONText.writeString(self.sid, into: &json)
        json.writeStaticString(",\"upgrades\":[")
        for (index, upgrade) in self.upgrades.enumerated() {
            if index > 0 { json.writeStaticString(",") }
            JSONText.writeString(upgrade, into: &json)
        }
        json.writeString("],\"pingInterval\":\(self.pingInterval),\"pingTimeout\":\(self.pingTimeout),\"maxPayload\":\(self.maxPayload)}")
        return EnginePacket(.open, payload: json)
    }
}
