import EngineIOServer
import NIOCore
import SocketIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The options of a Socket.IO server; the names and defaults are socket.io's.
public struct SocketIOServerConfiguration: Sendable {
    /// The Engine.IO options (path `/socket.io/`, heartbeat, payload limit, CORS, ...).
    public var engine: EngineServerConfiguration
    /// How long a client may stay connected without joining any namespace (default 45 s).
    public var connectTimeout: Duration
    /// The most namespaces dynamic namespaces may create (default 1000); past it, CONNECT gets
    /// `Invalid namespace`.
    public var maxDynamicNamespaces: Int
    /// Makes the adapter of each namespace (default: `InMemoryAdapter`).
    public var adapter: @Sendable (Namespace) -> Adapter
    /// Limits of the packet decoder.
    public var decoder: SocketPacketDecoder.Configuration
    /// Connection state recovery; nil (the default, as in Node.js) turns it off.
    public var connectionStateRecovery: ConnectionStateRecovery?
    /// Back-pressure from slow recipients to publishers (on by default); nil turns it off, leaving only
    /// `engine.maxBufferedBytes` to bound what waits for a slow client.
    public var flowControl: FlowControl?
    /// Encodes the `Encodable` values of `emit(_:encoding:)`, `ack.send(encoding:)` and typed events.
    public var jsonEncoder: JSONEncoder
    /// Decodes the payloads of `on(_:as:)`, typed events and `emitWithAck(_:as:)` answers.
    public var jsonDecoder: JSONDecoder

    /// Creates a configuration; every default is socket.io's.
    public init(
        engine: EngineServerConfiguration = EngineServerConfiguration(),
        connectTimeout: Duration = .seconds(45),
        maxDynamicNamespaces: Int = 1000,
        adapter: @escaping @Sendable (Namespace) -> Adapter = { InMemoryAdapter(namespace: $0) },
        decoder: SocketPacketDecoder.Configuration = SocketPacketDecoder.Configuration(),
        connectionStateRecovery: ConnectionStateRecovery? = nil,
        flowControl: FlowControl? = FlowControl(),
        jsonEncoder: JSONEncoder = JSONEncoder(),
        jsonDecoder: JSONDecoder = JSONDecoder()
    ) {
        self.engine = engine
        self.connectTimeout = connectTimeout
        self.maxDynamicNamespaces = maxDynamicNamespaces
        self.adapter = adapter
        self.decoder = decoder
        self.connectionStateRecovery = connectionStateRecovery
        self.flowControl = flowControl
        self.jsonEncoder = jsonEncoder
        self.jsonDecoder = jsonDecoder
    }
}
