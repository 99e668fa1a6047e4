import SocketIOCore

/// The acknowledgement callback of an event the client sent with an ack id: call it once with the answer.
///
/// Its state lives on the socket's event loop (where the answer is written anyway): an answer given from
/// another thread hops there first, so no lock is taken and nothing but this object is allocated per event.
public final class SocketAck: @unchecked Sendable {
    /// The ack id.
    public let id: Int
    private let socket: Socket
    /// Whether the answer was sent; only touched on the socket's event loop.
    private var used = false

    init(id: Int, socket: Socket) {
        self.id = id
        self.socket = socket
    }

    /// Sends the acknowledgement with `arguments`; later calls do nothing.
    public func callAsFunction(_ arguments: JSONValue...) {
        self.send(arguments)
    }

    /// Sends the acknowledgement with `arguments`; later calls do nothing.
    public func send(_ arguments: [JSONValue]) {
        let loop = self.socket.eventLoop
        if loop.inEventLoop {
            self.sendOnce(arguments)
        } else {
            loop.execute { self.sendOnce(arguments) }
        }
    }

    /// Sends the acknowledgement with `Encodable` values, one argument each.
    public func send<each T: Encodable>(encoding values: repeat each T) throws {
        self.send(try JSONValue.encodingEach(repeat each values, using: self.socket.namespace.server.configuration.jsonEncoder))
    }

    private func sendOnce(_ arguments: [JSONValue]) {
        guard !self.used else { return }
        self.used = true
        self.socket.sendPacket(.ack(arguments, ackId: self.id, namespace: self.socket.namespace.name))
    }
}
