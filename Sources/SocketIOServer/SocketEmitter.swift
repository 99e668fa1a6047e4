import NIOCore
import SocketIOCore

/// Emits to one socket with flags: `socket.timeout(.seconds(5))`, `socket.volatile`, `socket.compress(false)`.
public struct SocketEmitter: Sendable {
    let socket: Socket
    var timeout: TimeAmount?
    var volatile = false
    var compress = true

    init(socket: Socket, timeout: TimeAmount? = nil, volatile: Bool = false, compress: Bool = true) {
        self.socket = socket
        self.timeout = timeout
        self.volatile = volatile
        self.compress = compress
    }

    /// Adds an acknowledgement deadline.
    public func timeout(_ timeout: Duration) -> SocketEmitter {
        self.timeout(TimeAmount(timeout))
    }

    /// Adds an acknowledgement deadline given as a NIO `TimeAmount`.
    @_disfavoredOverload
    public func timeout(_ timeout: TimeAmount) -> SocketEmitter {
        var copy = self
        copy.timeout = timeout
        return copy
    }

    /// Drops the emit if the client cannot take it right now.
    public var volatileFlag: SocketEmitter {
        var copy = self
        copy.volatile = true
        return copy
    }

    /// Allows or forbids compression of the emit.
    public func compress(_ compress: Bool) -> SocketEmitter {
        var copy = self
        copy.compress = compress
        return copy
    }

    /// Emits `event` with `arguments`.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        self.emit(event, arguments: arguments)
    }

    /// Emits `event` with `arguments`.
    public func emit(_ event: String, arguments: [JSONValue]) {
        let packet = SocketPacket.event(event, arguments, namespace: self.socket.namespace.name)
        self.send(packet, event: event, arguments: arguments)
    }

    /// Emits `event` and calls `ack` with the answer, a timeout or a disconnection.
    public func emit(_ event: String, arguments: [JSONValue], ack: @escaping @Sendable (Result<[JSONValue], SocketIOError>) -> Void) {
        let id = self.socket.namespace.nextAckId()
        self.socket.expectAck(id: id, timeout: self.timeout, callback: ack)
        let packet = SocketPacket.event(event, arguments, namespace: self.socket.namespace.name, ackId: id)
        self.send(packet, event: event, arguments: arguments)
    }

    /// Emits `event` and waits for the acknowledgement's arguments; throws `SocketIOError.ackTimeout` past
    /// the timeout, `SocketIOError.disconnected` if the socket goes away first.
    public func emitWithAck(_ event: String, _ arguments: JSONValue...) async throws -> [JSONValue] {
        try await self.emitWithAck(event, arguments: arguments)
    }

    /// Emits `event` and waits for the acknowledgement's arguments.
    public func emitWithAck(_ event: String, arguments: [JSONValue]) async throws -> [JSONValue] {
        try await withCheckedThrowingContinuation { continuation in
            self.emit(event, arguments: arguments) { result in continuation.resume(with: result) }
        }
    }

    private func send(_ packet: SocketPacket, event: String, arguments: [JSONValue]) {
        let socket = self.socket
        if socket.pid != nil, !self.volatile, packet.ackId == nil {
            // Connection state recovery (as Node.js): through the adapter to the socket's own room, so that
            // the packet gets an offset and is kept, even while the client is away for a moment. The adapter
            // tells the socket's outgoing listeners, as for any broadcast.
            socket.namespace.adapter.broadcast(packet, options: BroadcastOptions(rooms: [socket.id], compress: self.compress))
            return
        }
        guard socket.connected else { return }
        if socket.hasOutgoingListeners { socket.notifyOutgoing(event, arguments) }
        if self.volatile {
            let encoded = EncodedMessages(packet, compress: self.compress)
            socket.connection.eventLoop.executeOrRun { socket.deliver(encoded, volatile: true) }
        } else {
            socket.connection.send(packet, compress: self.compress)
        }
    }
}
