import NIOConcurrencyHelpers
import NIOCore
import SocketIOServer

/// The Socket.IO fixture of the protocol's test suite, plus the events the interop tests use to drive
/// rooms, broadcasts, acknowledgements and middleware from any client.
enum SocketIOFixture {
    /// Installs the fixture; `tokenAdminNamespace: false` leaves `/admin` to the Admin UI.
    static func install(on io: SocketIO, tokenAdminNamespace: Bool = true) throws {
        // Other nodes' serverSideEmit: answered with ["pong", arguments after the event name...].
        io.of("/").onServerSideEmit { arguments, ack in
            ack?([.array([.string("pong")] + arguments.dropFirst())])
        }
        io.of("/").use { socket in
            // `socket.data` set by a middleware, from the auth's `data` (the Admin UI announces it)
            if let data = socket.handshake.auth["data"] { socket.data = data }
        }
        io.on(.connection) { socket in
            socket.emit("auth", socket.handshake.auth)
            installMainEvents(socket, io: io)
        }
        io.of("/custom").on(.connection) { socket in
            socket.emit("auth", socket.handshake.auth)
        }
        if tokenAdminNamespace { installTokenAdmin(on: io) }
        try io.of(matching: "^/dyn-[a-z0-9]+$").on(.connection) { socket in
            socket.emit("dyn", .string(socket.namespace.name))
        }
    }

    /// Sets `value` at `path` (keys and indexes) inside `target`; a missing link changes nothing.
    private static func assign(_ value: JSONValue, at path: ArraySlice<JSONValue>, in target: inout JSONValue) {
        guard let step = path.first else { return target = value }
        let rest = path.dropFirst()
        if let key = step.stringValue {
            guard var child = rest.isEmpty ? value : target[key] else { return }
            if !rest.isEmpty { assign(value, at: rest, in: &child) }
            target[key] = child
        } else if let index = step.intValue {
            guard var child = rest.isEmpty ? value : target[index] else { return }
            if !rest.isEmpty { assign(value, at: rest, in: &child) }
            target[index] = child
        }
    }

    /// `/admin` refusing any token but `secret` (the protocol suites' middleware test).
    private static func installTokenAdmin(on io: SocketIO) {
        let admin = io.of("/admin")
        admin.use { socket in
            guard socket.handshake.auth["token"]?.stringValue == "secret" else {
                throw ConnectionRefused("unauthorized", data: ["reason": "bad token"])
            }
        }
        admin.on(.connection) { socket in
            socket.emit("welcome", ["ns": "/admin"])
        }
    }

    private static func installMainEvents(_ socket: Socket, io: SocketIO) {
        let anyCount = NIOLockedValueBox(0)
        socket.onAny { event, _ in
            if event != "any-count" { anyCount.withLockedValue { $0 += 1 } }
        }
        // The handshake as a middleware reads it: header fields (swift-http-types, Host included), query.
        socket.on("handshake") { _, ack in
            let headers = socket.handshake.headers
            ack?.send([
                [
                    "host": headers[HTTPField.Name("Host")!].map(JSONValue.string) ?? .null,
                    "x-token": headers[HTTPField.Name("X-Token")!].map(JSONValue.string) ?? .null,
                    "user-agent": headers[.userAgent].map(JSONValue.string) ?? .null,
                    "room": socket.handshake.query["room"].map(JSONValue.string) ?? .null,
                    "secure": .bool(socket.handshake.secure),
                ]
            ])
        }
        socket.use { event, _ in
            if event.hasPrefix("forbidden-") { throw EventRejected("forbidden event") }
        }
        socket.onError { error in
            socket.emit("error", ["message": .string("\(error)")])
        }
        BenchFixture.installEvents(socket, io: io)  // echo, join, emit-to, bench-broadcast
        // The typed API (issue 16): a payload that decodes is acknowledged with the value re-encoded, one
        // that does not with the library's decode-error reply (`EventDecodingError.reply`).
        socket.on(TypedEcho.self) { value, ack in
            try ack?(value)
        }
        // The server's typed emitWithAck: asks the client `typed-echo` {"text": "from server", "n": 7} and
        // acknowledges {"ok": true, "answer": <the client's answer, decoded and re-encoded>}, or
        // {"ok": false, "error": "<why>"} (timeout, or an answer that does not decode).
        socket.on("typed-ask") { (_: [JSONValue], ack: SocketAck?) async in
            do {
                let answer = try await socket.timeout(.seconds(2)).emitWithAck(TypedEcho(text: "from server", n: 7))
                ack?(["ok": true, "answer": try JSONValue(encoding: answer)])
            } catch {
                ack?(["ok": false, "error": "\(error)"])
            }
        }
        // Several Codable arguments (`on(_:as:_:_:)`): ("typed-pair", TypedEcho, Int) is acknowledged with two
        // arguments, the Int and the TypedEcho with its n replaced by that Int (`send(encoding:)` with two).
        socket.on("typed-pair", as: TypedEcho.self, Int.self) { echo, n, ack in
            try ack?.send(encoding: n, TypedEcho(text: echo.text, n: n))
        }
        // The same, answered by the handler itself (`asResult:`): the error's message under "rejected".
        socket.on("typed-echo-result", asResult: TypedEcho.self) { result, ack in
            switch result {
            case .success(let value): try ack?.send(encoding: value)
            case .failure(let error): ack?(["rejected": .string(error.message)])
            }
        }
        socket.on("recovered") { _, ack in
            ack?(.bool(socket.recovered))
        }
        socket.on("set-data") { args, ack in
            socket.data = args.first ?? .null
            ack?()
        }
        socket.on("set-data-at") { args, ack in
            // [path, value]: one nested change, as `socket.data["user"]?["name"] = value` makes it
            guard args.count >= 2, let path = args[0].arrayValue, !path.isEmpty else { return }
            assign(args[1], at: path[...], in: &socket.data)
            ack?()
        }
        socket.on("get-data") { _, ack in
            ack?(socket.data)
        }
        socket.on("emit-volatile") { args, ack in
            guard let event = args.first?.stringValue else { return }
            io.volatile.emit(event, arguments: Array(args.dropFirst()))
            ack?()
        }
        socket.on("message") { args, _ in
            socket.emit("message-back", arguments: args)
        }
        socket.on("message-with-ack") { args, ack in
            ack?.send(args)
        }
        socket.on("leave") { args, ack in
            if let room = args.first?.stringValue { socket.leave(room) }
            ack?()
        }
        socket.on("emit-to-many") { args, ack in
            guard args.count >= 2, let rooms = args[0].arrayValue?.compactMap(\.stringValue), let event = args[1].stringValue else { return }
            io.to(rooms).emit(event, arguments: Array(args.dropFirst(2)))
            ack?()
        }
        socket.on("emit-except") { args, ack in
            guard args.count >= 3, let room = args[0].stringValue, let except = args[1].stringValue, let event = args[2].stringValue else { return }
            io.to(room).except(except).emit(event, arguments: Array(args.dropFirst(3)))
            ack?()
        }
        socket.on("broadcast") { args, ack in
            guard let event = args.first?.stringValue else { return }
            socket.broadcast.emit(event, arguments: Array(args.dropFirst()))
            ack?()
        }
        socket.on("emit-all") { args, ack in
            guard let event = args.first?.stringValue else { return }
            io.emit(event, arguments: Array(args.dropFirst()))
            ack?()
        }
        socket.on("disconnect-room") { args, ack in
            if let room = args.first?.stringValue { io.in(room).disconnectSockets(close: true) }
            ack?()
        }
        socket.on("sockets-join") { args, ack in
            if args.count >= 2, let room = args[0].stringValue, let newRoom = args[1].stringValue {
                io.in(room).socketsJoin(newRoom)
            }
            ack?()
        }
        socket.on("sockets-leave") { args, ack in
            if args.count >= 2, let room = args[0].stringValue, let leaving = args[1].stringValue {
                io.in(room).socketsLeave(leaving)
            }
            ack?()
        }
        socket.on("emit-local") { args, ack in
            // io.local: this node's clients only, even with the Redis adapter
            guard let event = args.first?.stringValue else { return }
            io.local.emit(event, arguments: Array(args.dropFirst()))
            ack?()
        }
        socket.on("big-to") { args, ack in
            // `count` text events "big" of `size` characters to a room, to fill a recipient's buffers
            guard args.count >= 3, let room = args[0].stringValue, let size = args[1].intValue, let count = args[2].intValue else { return }
            let text = JSONValue.string(String(repeating: "a", count: size))
            for _ in 0..<count { io.to(room).emit("big", text) }
            ack?()
        }
        socket.on("my-rooms") { _, ack in
            ack?(.array(socket.rooms.sorted().map { .string($0) }))
        }
        socket.on("any-count") { _, ack in
            ack?(.int(anyCount.withLockedValue { $0 }))
        }
        socket.on("ordered") { (args: [JSONValue], _: SocketAck?) async in
            // An async handler that suspends for a random moment: events must still complete in order.
            try? await Task.sleep(for: .microseconds(Int.random(in: 0...500)))
            socket.emit("ordered-back", arguments: args)
        }
        socket.on("big") { args, _ in
            // a large text event, compressed or not (permessage-deflate, when negotiated)
            let size = args.first?.intValue ?? 4096
            let compress = args.count > 1 ? args[1].boolValue ?? true : true
            socket.compress(compress).emit("big", .string(String(repeating: "a", count: size)))
        }
        socket.on("fetch-sockets") { (_: [JSONValue], ack: SocketAck?) async throws in
            let sockets = try await io.fetchSockets()
            ack?(.array(sockets.map { .string($0.id) }))
        }
        socket.on("server-ack") { (args: [JSONValue], ack: SocketAck?) async in
            guard let event = args.first?.stringValue else { return }
            let timeout = TimeAmount.milliseconds(Int64(args.count > 1 ? args[1].intValue ?? 1000 : 1000))
            do {
                let answer = try await socket.timeout(timeout).emitWithAck(event)
                ack?(["ok": true, "args": .array(answer)])
            } catch {
                ack?(["ok": false, "error": "timeout"])
            }
        }
        socket.on("server-side-emit") { (args: [JSONValue], ack: SocketAck?) async in
            // [arguments, timeout ms]: serverSideEmit to the other nodes, answered with their answers.
            let arguments = args.first?.arrayValue ?? []
            let timeout = TimeAmount.milliseconds(Int64(args.count > 1 ? args[1].intValue ?? 2000 : 2000))
            do {
                ack?(["ok": true, "answers": .array(try await io.serverSideEmit(arguments, timeout: timeout))])
            } catch {
                ack?(["ok": false, "error": .string("\(error)")])
            }
        }
        socket.on("room-ack") { (args: [JSONValue], ack: SocketAck?) async in
            guard args.count >= 2, let room = args[0].stringValue, let event = args[1].stringValue else { return }
            let timeout = TimeAmount.milliseconds(Int64(args.count > 2 ? args[2].intValue ?? 1000 : 1000))
            do {
                let answers = try await io.to(room).timeout(timeout).emitWithAck(event)
                // like Node.js: each client's first acknowledgement argument
                ack?(["ok": true, "responses": .array(answers.map { $0.first ?? .null })])
            } catch {
                ack?(["ok": false, "error": "timeout"])
            }
        }
    }
}

/// The fixture's typed event `typed-echo` ({"text": String, "n": Int}), acknowledged with the same shape.
struct TypedEcho: TypedEvent {
    static let name = "typed-echo"
    typealias Acknowledgement = TypedEcho
    var text: String
    var n: Int
}
