import EngineIOClient
import NIOCore
import SocketIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The `auth` payload sent with each namespace CONNECT.
public enum SocketAuth: Sendable {
    /// No payload.
    case none
    /// A fixed payload.
    case value(JSONObject)
    /// A closure called on every connection attempt (to refresh a token, say).
    case provider(@Sendable () async -> JSONObject?)
}

/// The options of the JavaScript client, with its defaults.
public struct SocketOptions: Sendable {
    /// The default `auth` of the Manager's sockets.
    public var auth: SocketAuth = .none
    /// Extra query parameters of the Engine.IO requests.
    public var query: [String: String] = [:]
    /// Extra HTTP headers of the polling requests and of the WebSocket upgrade.
    public var extraHeaders: [String: String] = [:]
    /// The Engine.IO path.
    public var path = "/socket.io/"
    /// The transports, in order: `[.polling, .websocket]` starts with polling and upgrades.
    public var transports: [EngineTransport] = [.polling, .websocket]
    /// Whether polling upgrades to WebSocket.
    public var upgrade = true
    /// How long opening the Engine.IO connection may take.
    public var timeout: Duration = .seconds(20)
    /// Whether to reconnect after the connection is lost.
    public var reconnection = true
    /// The most reconnection attempts.
    public var reconnectionAttempts = Int.max
    /// The first reconnection delay.
    public var reconnectionDelay: Duration = .seconds(1)
    /// The largest reconnection delay.
    public var reconnectionDelayMax: Duration = .seconds(5)
    /// The jitter of the delays, between 0 and 1.
    public var randomizationFactor = 0.5
    /// The default acknowledgement timeout of emits that ask for an ack.
    public var ackTimeout: Duration?
    /// With a value above 0, emits go through a queue, one at a time, and are re-sent up to `retries` times
    /// when their ack does not arrive within `ackTimeout` (at-least-once delivery).
    public var retries = 0
    /// Whether sockets connect as soon as they are created.
    public var autoConnect = true
    /// The TLS settings for `https`/`wss`.
    public var tlsConfiguration: ClientTLSConfiguration?
    /// Encodes the `Encodable` values of `emit(_:encoding:)`, `emitWithAck(_:encoding:as:)`, acknowledgements
    /// and typed events.
    public var jsonEncoder = JSONEncoder()
    /// Decodes the payloads of `on(_:as:)`, typed events and typed acknowledgements.
    public var jsonDecoder = JSONDecoder()

    /// Options with the defaults.
    public init() {}
}
