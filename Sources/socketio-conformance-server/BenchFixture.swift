import SocketIOServer

/// The events the benchmarks use and nothing else (`--bench`), registered per socket in the connection
/// handler as a Socket.IO application would: the same events as `benchmarks/python_server.py`, so that
/// the memory per connection compares like with like (the full fixture adds ~25 handlers per socket).
enum BenchFixture {
    static func install(on io: SocketIO) {
        io.on(.connection) { socket in installEvents(socket, io: io) }
    }

    /// The four events (the interop fixture has them too, among its others).
    static func installEvents(_ socket: Socket, io: SocketIO) {
        socket.on("bench-broadcast") { args, _ in
            io.emit("bench", arguments: args)
        }
        socket.on("echo") { args, ack in
            ack?.send(args)
        }
        socket.on("join") { args, ack in
            if let room = args.first?.stringValue { socket.join(room) }
            ack?()
        }
        socket.on("emit-to") { args, ack in
            guard args.count >= 2, let room = args[0].stringValue, let event = args[1].stringValue else { return }
            io.to(room).emit(event, arguments: Array(args.dropFirst(2)))
            ack?()
        }
    }
}
