import Foundation
import NIOCore
import SocketIOServer

/// The chat's Socket.IO side, shared by the chat examples (`socketio-chat` on our own listener,
/// `socketio-chat-hummingbird` and `socketio-chat-vapor` mounted on those frameworks): the main namespace
/// for people, `/admin` for the admin page.
///
/// Client → server events (`/`): `nickname` (name, ack), `join` (room, ack → history and members),
/// `leave` (room, ack), `message` ({room, text}, ack → {id, time}), `received` ({id}: this page showed
/// message `id`), `typing` ({room, typing}, volatile).
/// Server → client: `message`, `notice` (joined / left / renamed), `typing`, `presence` (who is online
/// and the rooms), `delivered` ({id, clientId, count}: how many other people's pages received a message),
/// `announcement` (from the admin page).
///
/// Connection state recovery is on (see `ChatServer`): a page whose connection drops for less than the
/// recovery window comes back as the same socket, in its rooms, and gets the messages it missed, in order;
/// it neither joins again nor fetches the history again. Messages are therefore relayed without an
/// acknowledgement (packets with one are not kept for recovery, as in Node.js); the pages confirm them with
/// `received` instead. Meanwhile the others see the person "away" (`presence` marks it), and are told that
/// it left only when the window passes without it coming back; a page that is closed says so at once.
///
/// `/admin` (auth `{token}`): `stats` pushed on every change, `announce` (text, ack → {recipients}).
/// (The official Admin UI, `--admin-ui`, has its own namespace: see `ChatAdminUIArguments`.)
///
/// `socket.data` holds the person's `nickname`, for the Admin UI and for `fetchSockets` on other nodes.
public struct ChatApp: Sendable {
    let io: SocketIO
    let state = ChatState()
    let adminToken: String?

    /// The chat on `io`; the admin page needs `adminToken` (it is off without one).
    public init(io: SocketIO, adminToken: String? = nil) {
        self.io = io
        self.adminToken = adminToken
    }

    /// The folder of the chat's pages (`index.html`, `chat.js`, `style.css`, `admin.html`, `admin.js`),
    /// shared by every chat example.
    public static var publicFolder: String? {
        Bundle.module.url(forResource: "Public", withExtension: nil)?.path
    }

    /// The server options the chat expects: connection state recovery within `recoveryWindow` (nil turns
    /// it off), so that a page back from a blip gets what it missed.
    public static func serverConfiguration(recoveryWindow: Duration? = .seconds(120)) -> SocketIOServerConfiguration {
        var configuration = SocketIOServerConfiguration()
        configuration.connectionStateRecovery = recoveryWindow.map { ConnectionStateRecovery(maxDisconnectionDuration: $0) }
        return configuration
    }

    /// Registers the chat's handlers on `io`.
    public func install() {
        self.io.on(.connection) { socket in self.connected(socket) }
        let admin = self.io.of("/admin")
        admin.use { socket in
            guard let adminToken = self.adminToken else {
                throw ConnectionRefused("the admin page is disabled: start the server with --admin-token", data: ["reason": "disabled"])
            }
            guard socket.handshake.auth["token"]?.stringValue == adminToken else {
                throw ConnectionRefused("invalid admin token", data: ["reason": "unauthorized"])
            }
        }
        admin.on(.connection) { socket in self.adminConnected(socket) }
    }

    // MARK: People

    private func connected(_ socket: Socket) {
        var nickname = ChatValidation.nickname(socket.handshake.auth["nickname"]?.stringValue) ?? "guest-\(socket.id.prefix(4))"
        if socket.recovered, self.state.comeBack(socket.id) {
            // Back within the recovery window, as the same socket in its rooms: nobody was told it left, so
            // nobody is told it joined (the page does not join again either).
            nickname = self.state.user(socket.id)?.nickname ?? nickname
        } else {
            self.state.connect(socket.id, nickname: nickname)
            if socket.recovered {
                // Recovered, but this node did not know the person any more: back in its rooms.
                for room in socket.rooms.sorted() where room != socket.id { self.join(socket, room: room, ack: nil) }
            }
        }
        // shown by the official Admin UI (--admin-ui) and carried by fetchSockets to every node
        socket.data["nickname"] = .string(nickname)
        socket.emit("welcome", ["id": .string(socket.id), "nickname": .string(nickname)])
        self.changed()

        socket.on("nickname") { args, ack in
            guard let nickname = ChatValidation.nickname(args.first?.stringValue) else {
                ack?(["ok": false, "error": "invalid nickname"])
                return
            }
            let old = self.state.rename(socket.id, to: nickname)
            socket.data["nickname"] = .string(nickname)
            ack?(["ok": true, "nickname": .string(nickname)])
            if let old, old != nickname, let user = self.state.user(socket.id) {
                for room in user.rooms {
                    socket.to(room).emit("notice", ["room": .string(room), "kind": "rename", "text": .string("\(old) is now \(nickname)")])
                }
            }
            self.changed()
        }

        socket.on("join") { args, ack in
            guard let room = ChatValidation.room(args.first?.stringValue) else {
                ack?(["ok": false, "error": "invalid room name"])
                return
            }
            self.join(socket, room: room, ack: ack)
        }

        socket.on("leave") { args, ack in
            guard let room = ChatValidation.room(args.first?.stringValue) else {
                ack?(["ok": false, "error": "invalid room name"])
                return
            }
            socket.leave(room)
            if self.state.leave(socket.id, room: room) {
                let nickname = self.state.user(socket.id)?.nickname ?? "someone"
                socket.to(room).emit("notice", ["room": .string(room), "kind": "leave", "text": .string("\(nickname) left")])
                self.changed()
            }
            ack?(["ok": true])
        }

        socket.on("message") { (args: [JSONValue], ack: SocketAck?) async in
            guard let room = ChatValidation.room(args.first?["room"]?.stringValue),
                let text = ChatValidation.text(args.first?["text"]?.stringValue)
            else {
                ack?(["ok": false, "error": "invalid message"])
                return
            }
            // A message sent while reconnecting can arrive before the page joined again: join silently.
            if !socket.rooms.contains(room) { self.join(socket, room: room, ack: nil, quiet: true) }
            let nickname = self.state.user(socket.id)?.nickname ?? "someone"
            let time = Int64(Date().timeIntervalSince1970 * 1000)
            let message = self.state.post(room: room, nickname: nickname, text: text, time: time)
            var payload = message.json
            if case .object(var object) = payload {
                object["clientId"] = args.first?["clientId"] ?? .null
                payload = .object(object)
            }
            // ✓ stored and relayed by the server
            ack?(["ok": true, "id": .int(message.id), "time": .int(Int(time))])
            // ✓✓ once another person's page received it (`received`)
            self.state.track(message.id, sender: socket.id, clientId: args.first?["clientId"] ?? .null)
            socket.to(room).emit("message", payload)
        }

        socket.on("received") { args, _ in
            guard let id = args.first?["id"]?.intValue, let (delivery, count) = self.state.received(id, by: socket.id) else { return }
            // to the sender's socket (its own room): a recovered sender gets it too
            self.io.to(delivery.sender).emit("delivered", ["id": .int(id), "clientId": delivery.clientId, "count": .int(count)])
        }

        socket.on("typing") { args, _ in
            guard let room = ChatValidation.room(args.first?["room"]?.stringValue), socket.rooms.contains(room) else { return }
            let typing = args.first?["typing"]?.boolValue ?? false
            let nickname = self.state.user(socket.id)?.nickname ?? "someone"
            socket.to(room).volatile.emit("typing", ["room": .string(room), "id": .string(socket.id), "nickname": .string(nickname), "typing": .bool(typing)])
        }

        socket.onDisconnect { reason in
            // A connection lost for a reason that may be recovered (a network blip, a missed ping): the person
            // is shown away, and has left only if the page is not back within the recovery window.
            if let window = self.io.configuration.connectionStateRecovery?.maxDisconnectionDuration, reason.isRecoverable,
                let absence = self.state.markAway(socket.id)
            {
                self.changed()
                Task {
                    try? await Task.sleep(for: .nanoseconds(window.nanoseconds))
                    if let user = self.state.departIfStillAway(socket.id, absence: absence) { self.announceDeparture(of: socket.id, user) }
                }
                return
            }
            guard let user = self.state.disconnect(socket.id) else { return }
            self.announceDeparture(of: socket.id, user)
        }
    }

    /// Tells the rooms `user` was in that it left, and everyone the new presence.
    private func announceDeparture(of socketId: String, _ user: ChatState.User) {
        for room in user.rooms {
            // not to the socket itself: a recovered page would get its own departure among what it missed
            self.io.to(room).except(socketId).emit("notice", ["room": .string(room), "kind": "leave", "text": .string("\(user.nickname) left")])
        }
        self.changed()
    }

    private func join(_ socket: Socket, room: String, ack: SocketAck?, quiet: Bool = false) {
        socket.join(room)
        let (joined, history) = self.state.join(socket.id, room: room)
        let nickname = self.state.user(socket.id)?.nickname ?? "someone"
        ack?(["ok": true, "room": .string(room), "history": .array(history.map(\.json))])
        if joined {
            socket.to(room).emit("notice", ["room": .string(room), "kind": "join", "text": .string("\(nickname) joined")])
            self.changed()
        }
        _ = quiet
    }

    /// Tells every page who is online, and the admin pages the new figures.
    private func changed() {
        self.io.emit("presence", self.state.presence)
        self.io.of("/admin").emit("stats", self.state.stats)
    }

    // MARK: Admin

    private func adminConnected(_ socket: Socket) {
        self.state.adminConnected()
        socket.emit("stats", self.state.stats)
        socket.on("stats") { _, ack in ack?(self.state.stats) }
        socket.on("announce") { args, ack in
            guard let text = ChatValidation.text(args.first?.stringValue) else {
                ack?(["ok": false, "error": "empty announcement"])
                return
            }
            let time = Int64(Date().timeIntervalSince1970 * 1000)
            self.io.emit("announcement", ["text": .string(text), "time": .int(Int(time))])
            ack?(["ok": true, "recipients": self.state.stats["connections"] ?? 0])
        }
        socket.onDisconnect { _ in
            self.state.adminDisconnected()
            self.io.of("/admin").emit("stats", self.state.stats)
        }
    }
}
