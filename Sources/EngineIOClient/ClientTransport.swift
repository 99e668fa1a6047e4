import EngineIOCore

/// What a transport reports to the ``EngineClient`` that owns it (on the event loop).
protocol ClientTransportOwner: AnyObject {
    /// Packets arrived, in order.
    func transport(_ transport: ClientTransport, received packets: [EnginePacket])
    /// Everything written so far has been sent; the transport is writable again.
    func transportDrained(_ transport: ClientTransport)
    /// The transport failed or its connection ended.
    func transport(_ transport: ClientTransport, failed error: EngineClientError)
}

/// A client transport: HTTP long-polling or WebSocket. Confined to its event loop.
protocol ClientTransport: AnyObject {
    /// Which transport this is.
    var kind: EngineTransport { get }
    /// Whether `write` may be called now (polling: no POST in flight).
    var isWritable: Bool { get }
    /// Sends packets (the caller batches them).
    func write(_ packets: [EnginePacket])
    /// Stops the transport without telling the server anything.
    func close()
}
