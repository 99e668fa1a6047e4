import NIOConcurrencyHelpers
import SocketIOCore

/// The acknowledgement callback of an event the client sent with an ack id: call it once with the answer.
public final class SocketAck: Sendable {
    /// The ack id.
    public let id: Int
    private let socket: Socket
    private let used = NIOLockedValueBox(false)

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
        let first = self.used.withLockedValue { used -> Bool in
            defer { used = true }
            return !used
        }
        guard first else { return }
        self.socket.sendPacket(.ack(arguments, ackId: self.id, namespace: self.socket.namespace.name))
    }

    /// Sends the acknowledgement with one `Encodable` value.
    public func send(encoding value: some Encodable) throws {
        self.send([try JSONValue(encoding: value, using: self.socket.namespace.server.configuration.jsonEncoder)])
    }
}
