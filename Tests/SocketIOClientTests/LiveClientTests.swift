import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SocketIOServer
import Testing

import SocketIOClient

/// The transport modes: polling only, WebSocket only, polling then upgrade.
enum Mode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case polling, websocket, upgrade
    var transports: [EngineTransport] {
        switch self {
        case .polling: [.polling]
        case .websocket: [.websocket]
        case .upgrade: [.polling, .websocket]
        }
    }
    var testDescription: String { self.rawValue }
}

func options(_ mode: Mode, _ configure: (inout SocketOptions) -> Void = { _ in }) -> SocketOptions {
    var options = SocketOptions()
    options.transports = mode.transports
    options.reconnection = false
    configure(&options)
    return options
}

/// Connects and waits for `connect`.
func connectedSocket(_ manager: Manager, _ namespace: String = "/", auth: SocketAuth? = nil) async throws -> ClientSocket {
    let connected = Collector<Bool>()
    let socket = manager.socket(namespace, auth: auth)
    socket.onConnect { connected.append(true) }
    if socket.connected { return socket }
    _ = try await connected.wait(count: 1)
    return socket
}

/// Every test talks to a live server over loopback: a hung connection fails the test after two
/// minutes instead of stalling the run (scripts/test also limits the whole stage).
@Suite("Client against our server", .serialized, .timeLimit(.minutes(2)))
struct LiveClientTests {
    @Test("events and acks both ways, binary both ways, in every transport mode", arguments: Mode.allCases)
    func eventsAndAcks(mode: Mode) async throws {
        let server = try await TestServer.start()
        let manager = try Manager(url: server.url, options: options(mode))
        let upgraded = Collector<EngineTransport>()
        manager.onEvent { if case .upgrade(let transport) = $0 { upgraded.append(transport) } }
        let socket = try await connectedSocket(manager)
        #expect(socket.connected && socket.active)
        #expect(socket.id?.isEmpty == false)

        // Server to client events, through the AsyncSequence.
        let backs = socket.on("message-back")
        socket.emit("message", "hello", 42, ["nested": [true, nil]])
        let back = try await within(5) { () -> SocketEvent? in
            for await event in backs { return event }
            return nil
        }
        #expect(back?.arguments == ["hello", 42, ["nested": [true, nil]]])

        // Client to server ack.
        let echoed = try await socket.timeout(.seconds(5)).emitWithAck("echo", "a", 1.5)
        #expect(echoed == ["a", 1.5])

        // Binary both ways: sent as attachments, echoed back as attachments.
        let bytes: [UInt8] = Array(0...255) + [0, 1, 2]
        let binaryEcho = try await socket.timeout(.seconds(5)).emitWithAck("echo", .binary(bytes: bytes), ["inner": .binary(bytes: [9, 8])])
        #expect(binaryEcho.first?.binaryValue.map { Array($0.readableBytesView) } == bytes)
        #expect(binaryEcho.last?["inner"]?.binaryValue.map { Array($0.readableBytesView) } == [9, 8])

        // A large message (over NIO's 16 KiB default frame size).
        let large = String(repeating: "x", count: 300_000)
        let largeEcho = try await socket.timeout(.seconds(10)).emitWithAck("echo", .string(large))
        #expect(largeEcho.first?.stringValue?.count == 300_000)

        // Server to client ack: the server emits with an ack; our handler answers.
        socket.on("ping-me") { args, ack in ack?.send(["pong"] + args) }
        let serverAck = try await socket.timeout(.seconds(5)).emitWithAck("server-ack", "ping-me", .binary(bytes: [7]))
        #expect(serverAck.first?["ok"] == true)
        #expect(serverAck.first?["args"]?[0] == "pong")
        #expect(serverAck.first?["args"]?[1]?.binaryValue.map { Array($0.readableBytesView) } == [7])

        if mode == .upgrade {
            #expect(try await upgraded.wait(count: 1) == [.websocket])
        }
        manager.close()
        try await server.stop()
    }

    @Test("namespaces over one connection; auth accepted and refused with message and data", arguments: Mode.allCases)
    func namespacesAndAuth(mode: Mode) async throws {
        let server = try await TestServer.start()
        let manager = try Manager(url: server.url, options: options(mode))
        let mainAuth = Collector<JSONValue>()
        let main = manager.socket("/", auth: .value(["token": "main"]))
        main.on("auth") { mainAuth.append($0.first ?? .null) }
        let customAuth = Collector<JSONValue>()
        let custom = manager.socket("/custom", auth: .provider { ["from": "closure"] })
        custom.on("auth") { customAuth.append($0.first ?? .null) }
        #expect(try await mainAuth.wait(count: 1) == [["token": "main"]])
        #expect(try await customAuth.wait(count: 1) == [["from": "closure"]])
        #expect(try await custom.timeout(.seconds(5)).emitWithAck("echo", "c") == ["c"])
        #expect(main.id != custom.id)

        let welcome = Collector<JSONValue>()
        let admin = manager.socket("/admin", auth: .value(["token": "secret"]))
        admin.on("welcome") { welcome.append($0.first ?? .null) }
        #expect(try await welcome.wait(count: 1) == [["ns": "/admin"]])

        // A second manager with a bad token: CONNECT_ERROR with message and data.
        let refusedManager = try Manager(url: server.url, options: options(mode))
        let errors = Collector<SocketClientError>()
        let refused = refusedManager.socket("/admin", auth: .value(["token": "wrong"]))
        refused.onConnectError { errors.append($0) }
        let error = try await errors.wait(count: 1)[0]
        #expect(error.message == "unauthorized")
        #expect(error.data == ["reason": "bad token"])
        #expect(!refused.active && !refused.connected)
        refusedManager.close()
        manager.close()
        try await server.stop()
    }

    @Test("emitWithAck throws on timeout; onAny and onAnyOutgoing see the events")
    func timeoutAndAny() async throws {
        let server = try await TestServer.start()
        let manager = try Manager(url: server.url, options: options(.websocket))
        let socket = try await connectedSocket(manager)
        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: SocketClientError.timeout) {
            try await socket.timeout(.milliseconds(300)).emitWithAck("no-ack", 1)
        }
        // never before its deadline (an upper bound would only measure the machine's load)
        #expect(clock.now - start >= .milliseconds(300))

        let incoming = Collector<String>()
        let outgoing = Collector<String>()
        socket.onAny { event, args in incoming.append("\(event) \(args)") }
        socket.onAnyOutgoing { event, args in outgoing.append("\(event) \(args)") }
        socket.emit("message", "any")
        #expect(try await incoming.wait(count: 1) == ["message-back [\"any\"]"])
        #expect(outgoing.values == ["message [\"any\"]"])
        manager.close()
        try await server.stop()
    }

    @Test("emits made before the connection are sent in order on connect; volatile ones are dropped")
    func bufferedBeforeConnect() async throws {
        let server = try await TestServer.start()
        var opts = options(.polling)
        opts.autoConnect = false
        let manager = try Manager(url: server.url, options: opts)
        let socket = manager.socket("/")
        let recorded = Collector<JSONValue>()
        socket.on("recorded") { recorded.append($0.first ?? .null) }
        for index in 0..<20 { socket.emit("record", .int(index)) }
        socket.volatile.emit("record", "volatile")
        socket.open()
        // a fence: emitted after the connection, so the server handles it after anything buffered
        // before it (one socket's packets are sent and handled in order)
        socket.emit("record", "fence")
        let values = try await recorded.wait(count: 21)
        #expect(values == (0..<20).map { .int($0) } + ["fence"], "the volatile emit was dropped, the others sent once in order")
        manager.close()
        try await server.stop()
    }

    @Test("server disconnect ends the socket with io server disconnect")
    func serverDisconnect() async throws {
        let server = try await TestServer.start()
        let manager = try Manager(url: server.url, options: options(.websocket))
        let socket = try await connectedSocket(manager)
        let reasons = Collector<String>()
        socket.onDisconnect { reasons.append($0) }
        socket.emit("kick")
        #expect(try await reasons.wait(count: 1) == ["io server disconnect"])
        #expect(!socket.connected && !socket.active)
        manager.close()
        try await server.stop()
    }

    @Test("reconnects after the server restarts: backoff within bounds, auth re-run, offline emits once in order")
    func reconnection() async throws {
        var server = try await TestServer.start()
        let port = server.port
        let authCalls = NIOLockedValueBox(0)
        let manager = try Manager(
            url: server.url,
            options: options(.websocket) {
                $0.reconnection = true
                $0.reconnectionDelay = .milliseconds(100)
                $0.reconnectionDelayMax = .milliseconds(400)
                $0.randomizationFactor = 0.5
                $0.auth = .provider {
                    let call = authCalls.withLockedValue { value -> Int in
                        value += 1
                        return value
                    }
                    return ["call": .int(call)]
                }
            }
        )
        let events = Collector<ManagerEvent>()
        manager.onEvent { events.append($0) }
        let socket = manager.socket("/")
        let auths = Collector<JSONValue>()
        socket.on("auth") { auths.append($0.first ?? .null) }
        let recorded = Collector<JSONValue>()
        socket.on("recorded") { recorded.append($0.first ?? .null) }
        let disconnects = Collector<String>()
        socket.onDisconnect { disconnects.append($0) }
        #expect(try await auths.wait(count: 1) == [["call": 1]])

        try await server.stop()
        _ = try await disconnects.wait(count: 1)
        for index in 0..<5 { socket.emit("record", .int(index)) }
        // restart only once an attempt has failed, so that the backoff is exercised
        _ = try await events.wait(where: { if case .reconnectScheduled(let attempt, _) = $0 { attempt >= 2 } else { false } })
        server = try await TestServer.start(port: port)

        let secondAuth = try await auths.wait(count: 2, seconds: 15)
        #expect(secondAuth[1]["call"]?.intValue ?? 0 >= 2)
        socket.emit("record", "fence")  // after the offline ones: once it is back, they all are
        let values = try await recorded.wait(count: 6)
        #expect(values == (0..<5).map { .int($0) } + ["fence"], "offline emits sent once, in order")

        let delays = events.values.compactMap { event -> (Int, Int)? in
            if case .reconnectScheduled(let attempt, let delay) = event { return (attempt, delay) }
            return nil
        }
        #expect(!delays.isEmpty)
        let backoff = SocketIOClient.Backoff(minimum: 100, maximum: 400, jitter: 0.5)
        for (attempt, delay) in delays {
            #expect(backoff.bounds(ofAttempt: attempt - 1).contains(delay), "attempt \(attempt) delay \(delay)")
        }
        #expect(events.values.contains { if case .reconnect = $0 { true } else { false } })
        manager.close()
        try await server.stop()
    }

    @Test("1000 clients from one process each get their own events")
    func thousandClients() async throws {
        let server = try await TestServer.start()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let clock = ContinuousClock()
        let start = clock.now
        let count = 1000
        let received = Collector<(Int, [JSONValue])>()
        var managers: [Manager] = []
        for index in 0..<count {
            let manager = try Manager(url: server.url, options: options(.websocket), eventLoopGroup: group)
            managers.append(manager)
            let socket = manager.socket("/")
            socket.on("hello-back") { received.append((index, $0)) }
            socket.onConnect { socket.emit("hello", .int(index), .string("client-\(index)")) }
        }
        let values = try await received.wait(count: count, seconds: 60)
        let elapsed = clock.now - start
        print("1000 clients connected and answered in \(elapsed)")
        #expect(values.count == count)
        #expect(Set(values.map(\.0)).count == count, "each client got its own answer, once")
        for (index, args) in values {
            #expect(args == [.int(index), .string("client-\(index)")])
        }
        for manager in managers { manager.close() }
        try await Task.sleep(for: .milliseconds(300))
        try await server.stop()
        try await group.shutdownGracefully()
    }
}
