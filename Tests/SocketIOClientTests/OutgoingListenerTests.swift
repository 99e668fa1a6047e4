import NIOCore
import SocketIOServer
import Testing

import SocketIOClient

/// A server socket's `onAnyOutgoing` listeners (the Admin UI's `event_sent`) with connection state recovery
/// on: the arguments end with the packet's offset, as Node's do, i.e. exactly what the client receives (the
/// official client also hands the offset to its listeners, as the last argument).
@Suite("onAnyOutgoing with recovery", .serialized, .timeLimit(.minutes(2)))
struct OutgoingListenerTests {
    @Test("broadcasts and emits carry their offset to outgoing listeners; without recovery they do not", arguments: [true, false])
    func outgoingArgumentsEndWithTheOffset(recovery: Bool) async throws {
        var configuration = SocketIOServerConfiguration()
        if recovery { configuration.connectionStateRecovery = ConnectionStateRecovery(maxDisconnectionDuration: .seconds(60)) }
        let io = SocketIO(configuration: configuration)
        let outgoing = Collector<[JSONValue]>()
        io.on(.connection) { socket in
            socket.onAnyOutgoing { event, args in
                if event == "news" { outgoing.append(args) }
            }
            socket.on("go") { _, ack in
                io.emit("news", "to everyone")
                socket.emit("news", "to you")
                ack?.send([])
            }
        }
        let server = try await io.listen(host: "127.0.0.1", port: 0)
        let port = try #require(server.port)
        let manager = try Manager(url: "http://127.0.0.1:\(port)", options: options(.websocket))
        let socket = try await connectedSocket(manager)
        let received = Collector<[JSONValue]>()
        socket.on("news") { args in received.append(args) }
        _ = try await socket.timeout(.seconds(5)).emitWithAck("go")
        let seen = try await outgoing.wait(count: 2)
        let got = try await received.wait(count: 2)
        #expect(got == seen, "the listener saw what was sent")
        if recovery {
            #expect(seen.map { Array($0.prefix(1)) } == [["to everyone"], ["to you"]])
            let offsets = seen.compactMap { $0.count == 2 ? $0[1].stringValue : nil }
            #expect(offsets.count == 2 && Set(offsets).count == 2, "each packet its own offset: \(seen)")
        } else {
            #expect(seen == [["to everyone"], ["to you"]])
        }
        manager.close()
        try await io.close()
    }
}
