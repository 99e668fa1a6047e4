import SocketIOAdapter

extension FetchedSocket {
    /// Describes a socket of this node as it is now.
    init(local socket: Socket) {
        self.init(id: socket.id, handshake: socket.handshake.json, rooms: socket.rooms, data: socket.data)
    }
}
