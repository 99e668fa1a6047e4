import EngineIOCore
import NIOCore

/// The options of an Engine.IO server; the names and defaults are engine.io's.
public struct EngineServerConfiguration: Sendable {
    /// The path Engine.IO is served under (`/socket.io/` for Socket.IO, `/engine.io/` for bare engine.io).
    public var path: String
    /// Time between the server's pings (default 25 s).
    public var pingInterval: Duration
    /// Time the server waits for a pong before closing the session (default 20 s).
    public var pingTimeout: Duration
    /// The largest message or polling body accepted, in bytes (default 1 MB); larger ones close the session.
    public var maxHttpBufferSize: Int
    /// The transports clients may use.
    public var transports: Set<EngineTransport>
    /// Whether polling sessions may upgrade to WebSocket.
    public var allowUpgrades: Bool
    /// How long an upgrade may take between the probe and the upgrade packet (default 10 s).
    public var upgradeTimeout: Duration
    /// Cross-origin policy; nil sends no CORS headers and lets WebSocket upgrades come only from the same origin.
    public var cors: CORSConfiguration?
    /// The cookie set on the handshake answer, if any.
    public var cookie: EngineCookie?
    /// A hook that may refuse a handshake (HTTP 403, code 4).
    public var allowRequest: (@Sendable (EngineHandshakeRequest) async -> EngineRequestDecision)?
    /// permessage-deflate for WebSocket connections; nil (engine.io's default) disables it.
    public var perMessageDeflate: PerMessageDeflateConfiguration?
    /// Time a WebSocket close handshake may take before the TCP connection is dropped.
    public var webSocketCloseTimeout: Duration
    /// The most packets one long-polling answer carries (default 16); the rest go with the next GET.
    /// python-engineio's client refuses payloads of more than 16 packets.
    public var maxPacketsPerPoll: Int
    /// The most bytes that may wait to be sent to one client (default 8 MiB); a client that reads so
    /// slowly that more pile up is disconnected with reason `send buffer full`.
    public var maxBufferedBytes: Int
    /// Accept a session's later requests (polls, posts, the upgrade) only from the IP address of its
    /// handshake, so that a leaked sid cannot be used from elsewhere (default off: clients behind
    /// proxies may change address).
    public var bindSessionToAddress: Bool

    /// Creates a configuration; every default is engine.io's.
    public init(
        path: String = "/socket.io/",
        pingInterval: Duration = .seconds(25),
        pingTimeout: Duration = .seconds(20),
        maxHttpBufferSize: Int = 1_000_000,
        transports: Set<EngineTransport> = [.polling, .websocket],
        allowUpgrades: Bool = true,
        upgradeTimeout: Duration = .seconds(10),
        cors: CORSConfiguration? = nil,
        cookie: EngineCookie? = nil,
        allowRequest: (@Sendable (EngineHandshakeRequest) async -> EngineRequestDecision)? = nil,
        perMessageDeflate: PerMessageDeflateConfiguration? = nil,
        webSocketCloseTimeout: Duration = .seconds(5),
        maxPacketsPerPoll: Int = 16,
        maxBufferedBytes: Int = 8 << 20,
        bindSessionToAddress: Bool = false
    ) {
        self.path = path
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.maxHttpBufferSize = maxHttpBufferSize
        self.transports = transports
        self.allowUpgrades = allowUpgrades
        self.upgradeTimeout = upgradeTimeout
        self.cors = cors
        self.cookie = cookie
        self.allowRequest = allowRequest
        self.perMessageDeflate = perMessageDeflate
        self.webSocketCloseTimeout = webSocketCloseTimeout
        self.maxPacketsPerPoll = max(1, maxPacketsPerPoll)
        self.maxBufferedBytes = maxBufferedBytes
        self.bindSessionToAddress = bindSessionToAddress
    }

    /// The WebSocket settings that follow from these options.
    var webSocket: WebSocketConfiguration {
        var configuration = WebSocketConfiguration()
        configuration.maxMessageSize = self.maxHttpBufferSize
        configuration.maxFrameSize = self.maxHttpBufferSize + 64
        configuration.permessageDeflate = self.perMessageDeflate
        configuration.closeTimeout = TimeAmount(self.webSocketCloseTimeout)
        return configuration
    }

    /// Whether a request to `requestPath` (decoded, without the query) is for the engine: the path with or
    /// without its trailing slash.
    public func matches(path requestPath: String) -> Bool {
        let trimmed = self.path.hasSuffix("/") ? String(self.path.dropLast()) : self.path
        return requestPath == trimmed || requestPath == trimmed + "/"
    }
}
