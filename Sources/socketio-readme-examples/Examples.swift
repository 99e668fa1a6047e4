// The examples shown in README.md, kept here so that CI compiles them.
// Tests/Interop/test_readme_examples.py checks that every Swift block of the README appears in this file.
import SocketIOServer

struct ChatMessage: Codable, Sendable {
    var room: String
    var text: String
}

@main
struct ReadmeExamples {
    static func main() async throws {
        // BEGIN chat
        let io = SocketIO()

        io.on(.connection) { socket in
            socket.broadcast.emit("user-joined", .string(socket.id))

            socket.on("chat") { args, ack in
                io.emit("chat", arguments: args)
                ack?("delivered")
            }
        }
        // END chat

        // BEGIN rooms
        io.on(.connection) { socket in
            socket.on("join") { args, ack in
                guard let room = args.first?.stringValue else { return }
                socket.join(room)
                io.to(room).except(socket.id).emit("joined", .string(socket.id))
                ack?()
            }
            socket.on("say", as: ChatMessage.self) { message, _ in
                try socket.to(message.room).emit("said", encoding: message)
            }
        }
        // END rooms

        // BEGIN namespace
        let admin = io.of("/admin")
        admin.use { socket in
            guard socket.handshake.auth["token"]?.stringValue == "secret" else {
                throw ConnectionRefused("unauthorized", data: ["reason": "bad token"])
            }
        }
        admin.on(.connection) { socket in
            let counts = try? await io.fetchSockets().count
            socket.emit("stats", ["connections": .int(counts ?? 0)])
        }
        // END namespace

        // BEGIN acks
        io.on(.connection) { socket in
            do {
                let answer = try await socket.timeout(.seconds(5)).emitWithAck("ready?")
                print("client answered", answer)
            } catch {
                print("no answer in time:", error)
            }
        }
        // END acks

        // BEGIN recovery
        let resilient = SocketIO(configuration: SocketIOServerConfiguration(
            connectionStateRecovery: ConnectionStateRecovery(maxDisconnectionDuration: .minutes(2))
        ))
        resilient.on(.connection) { socket in
            if socket.recovered {
                print("back with id, rooms and data, missed packets on their way:", socket.id)
            } else {
                socket.join("lobby")
            }
        }
        // END recovery

        // BEGIN listen
        let server = try await io.listen(host: "127.0.0.1", port: 3000)
        try await server.waitUntilClosed()
        // END listen
    }
}
