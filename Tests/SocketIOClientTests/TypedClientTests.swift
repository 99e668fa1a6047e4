import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SocketIOServer
import Testing

import SocketIOClient

/// The server a typed-client test talks to: python-socketio (`swiftclient_server.py`) or ours (`TestServer`).
enum Peer: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case python, swift
    var testDescription: String { self.rawValue }

    /// Runs `body` with the URL of a fresh server of this kind, stopped afterwards.
    func with(_ body: (String) async throws -> Void) async throws {
        switch self {
        case .python:
            let peer = try await PythonPeer.start()
            do {
                try await body(peer.url)
            } catch {
                await peer.stop()
                throw error
            }
            await peer.stop()
        case .swift:
            let server = try await TestServer.start()
            do {
                try await body(server.url)
            } catch {
                try await server.stop()
                throw error
            }
            try await server.stop()
        }
    }
}

/// Issue 16, point 5: `try await socket.connect()`, typed acknowledgements and typed listeners that never drop
/// an event silently, against python-socketio's server and ours.
@Suite("Typed client API against real servers", .serialized, .timeLimit(.minutes(2)))
struct TypedClientTests {
    @Test("try await connect() returns once connected, and at once when already connected", arguments: Peer.allCases)
    func connectReturnsOnceConnected(peer: Peer) async throws {
        try await peer.with { url in
            let manager = try Manager(url: url, options: options(.websocket) { $0.autoConnect = false })
            let socket = manager.socket("/admin", auth: .value(["token": "secret"]))
            #expect(!socket.connected)
            try await within(10) { try await socket.connect() }
            #expect(socket.connected && socket.id != nil)
            try await within(10) { try await socket.connect() }
            #expect(socket.connected)
            manager.close()
        }
    }

    @Test("connect() throws the server's connect_error (message and data); buffered acks fail with it at once", arguments: Peer.allCases)
    func connectThrowsConnectError(peer: Peer) async throws {
        try await peer.with { url in
            let manager = try Manager(url: url, options: options(.polling) { $0.autoConnect = false })
            let socket = manager.socket("/admin", auth: .value(["token": "wrong"]))
            // an emit made before connecting, waiting for an ack with no deadline of its own
            let buffered = Task { try await socket.emitWithAck("echo", "never sent") }
            let thrown = await #expect(throws: SocketClientError.self) {
                try await within(10) { try await socket.connect() }
            }
            #expect(thrown?.isConnectError == true)
            #expect(thrown?.message == "unauthorized")
            #expect(thrown?.data == ["reason": "bad token"])
            #expect(!socket.active && !socket.connected)
            let failed = await #expect(throws: SocketClientError.self) {
                try await within(10) { try await buffered.value }
            }
            #expect(failed?.isConnectError == true && failed?.message == "unauthorized")
            manager.close()
        }
    }

    @Test("connect() throws when the connection cannot be opened")
    func connectThrowsTransportError() async throws {
        let server = try await TestServer.start()
        try await server.stop()  // nothing listens on its port any more
        let manager = try Manager(url: server.url, options: options(.websocket) { $0.autoConnect = false })
        let socket = manager.socket()
        let thrown = await #expect(throws: SocketClientError.self) {
            try await within(10) { try await socket.connect() }
        }
        #expect(thrown?.isConnectError == false && thrown?.isTimeout == false)
        manager.close()
    }

    @Test("a cancelled connect() throws CancellationError")
    func connectCancelled() async throws {
        // a listener that accepts and never answers: the connection attempt stays pending
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { _ in MultiThreadedEventLoopGroup.singleton.any().makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let manager = try Manager(url: "http://127.0.0.1:\(silent.localAddress!.port!)", options: options(.polling) { $0.autoConnect = false })
        let socket = manager.socket()
        let task = Task { try await socket.connect() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await within(10) { try await task.value } }
        manager.close()
        try await silent.close()
    }

    @Test("emitWithAck(_:encoding:as:) round-trips a Codable value", arguments: Peer.allCases)
    func typedAck(peer: Peer) async throws {
        try await peer.with { url in
            let manager = try Manager(url: url, options: options(.websocket) { $0.autoConnect = false })
            let socket = manager.socket()
            try await within(10) { try await socket.connect() }
            let sent = TypedEcho(text: "enchère ✓", n: 42)
            let echoed = try await socket.timeout(.seconds(5)).emitWithAck("echo", encoding: sent, as: TypedEcho.self)
            #expect(echoed == sent)
            let inferred: TypedEcho = try await socket.timeout(.seconds(5)).emitWithAck("echo", encoding: sent)
            #expect(inferred == sent)
            // an answer that does not decode throws the decoding error, naming the event
            let wrong = await #expect(throws: EventDecodingError.self) {
                _ = try await socket.timeout(.seconds(5)).emitWithAck("echo", encoding: ["text": "t"], as: TypedEcho.self)
            }
            #expect(wrong?.event == "echo" && wrong?.message == "missing key n")
            manager.close()
        }
    }

    @Test("several Codable arguments: emit(_:encoding:) and send(encoding:) with two, on(_:as:_:_:) decoding two", arguments: Peer.allCases)
    func severalArguments(peer: Peer) async throws {
        try await peer.with { url in
            let manager = try Manager(url: url, options: options(.websocket) { $0.autoConnect = false })
            let socket = manager.socket()
            let received = Collector<String>()
            let errors = Collector<String>()
            socket.on("pair", as: TypedEcho.self, Int.self) { echo, n, ack in
                received.append("\(echo.text) \(echo.n) \(n)")
                try? ack?.send(encoding: n, echo)
            }
            socket.onDecodingError { errors.append($0.message) }
            try await within(10) { try await socket.connect() }
            // two Encodable arguments go out as two arguments: the server's echo answers them as sent
            let echoed = try await socket.timeout(.seconds(5)).emitWithAck("echo", arguments: try JSONValue.encodingEach(TypedEcho(text: "a", n: 1), 2))
            #expect(echoed == [["text": "a", "n": 1], 2])
            let first: TypedEcho = try await socket.timeout(.seconds(5)).emitWithAck("echo", encoding: TypedEcho(text: "b", n: 3), "second")
            #expect(first == TypedEcho(text: "b", n: 3))
            // the server emits ("pair", echo, n) with an ack: our listener decodes both and answers with two
            let good = try await socket.timeout(.seconds(5)).emitWithAck("server-ack", "pair", ["text": "c", "n": 4], 5)
            #expect(good.first?["args"] == [5, ["text": "c", "n": 4]])
            // the second argument does not decode: the decode-error reply names it
            let bad = try await socket.timeout(.seconds(5)).emitWithAck("server-ack", "pair", ["text": "c", "n": 4], "five")
            #expect(bad.first?["args"] == [["error": "invalid payload", "event": "pair", "message": "argument 2: payload: expected Int, found a string"]])
            #expect(received.values == ["c 4 5"])
            #expect(errors.values == ["argument 2: payload: expected Int, found a string"])
            manager.close()
        }
    }

    @Test("on(_:as:) answers an undecodable event with the decode-error reply and reports it", arguments: Peer.allCases)
    func typedListener(peer: Peer) async throws {
        try await peer.with { url in
            let manager = try Manager(url: url, options: options(.websocket) { $0.autoConnect = false })
            let socket = manager.socket()
            let received = Collector<TypedEcho>()
            let errors = Collector<EventDecodingError>()
            socket.on("typed", as: TypedEcho.self) { value, ack in
                received.append(value)
                try? ack?.send(encoding: value)
            }
            socket.onDecodingError { errors.append($0) }
            try await within(10) { try await socket.connect() }
            // the server emits ("typed", payload) with an ack and tells us what the ack carried
            let good = try await socket.timeout(.seconds(5)).emitWithAck("server-ack", "typed", ["text": "a", "n": 1])
            #expect(good.first?["ok"] == true)
            #expect(good.first?["args"] == [["text": "a", "n": 1]])
            let bad = try await socket.timeout(.seconds(5)).emitWithAck("server-ack", "typed", ["text": "a", "n": "one"])
            #expect(bad.first?["ok"] == true)
            #expect(bad.first?["args"] == [["error": "invalid payload", "event": "typed", "message": "n: expected Int, found a string"]])
            #expect(received.values == [TypedEcho(text: "a", n: 1)])
            #expect(errors.values.map(\.message) == ["n: expected Int, found a string"])
            manager.close()
        }
    }

    @Test("on(_:asResult:) hands the decoding failure to the listener")
    func resultListener() async throws {
        let server = try await TestServer.start()
        let manager = try Manager(url: server.url, options: options(.websocket) { $0.autoConnect = false })
        let socket = manager.socket()
        socket.on("typed", asResult: TypedEcho.self) { result, ack in
            switch result {
            case .success(let value): ack?("ok", .string(value.text))
            case .failure(let error): ack?("refused", .string(error.message))
            }
        }
        try await within(10) { try await socket.connect() }
        let good = try await socket.timeout(.seconds(5)).emitWithAck("server-ack", "typed", ["text": "a", "n": 1])
        #expect(good.first?["args"] == ["ok", "a"])
        let bad = try await socket.timeout(.seconds(5)).emitWithAck("server-ack", "typed", ["n": 1])
        #expect(bad.first?["args"] == ["refused", "missing key text"])
        manager.close()
        try await server.stop()
    }

    @Test("a payload our server cannot decode throws payloadRejected with the server's reply")
    func payloadRejected() async throws {
        let server = try await TestServer.start()
        let manager = try Manager(url: server.url, options: options(.websocket) { $0.autoConnect = false })
        let socket = manager.socket()
        try await within(10) { try await socket.connect() }
        #expect(try await socket.timeout(.seconds(5)).emitWithAck("typed-echo", encoding: TypedEcho(text: "x", n: 1)) == TypedEcho(text: "x", n: 1))
        let rejected = await #expect(throws: SocketClientError.self) {
            _ = try await socket.timeout(.seconds(5)).emitWithAck("typed-echo", encoding: ["text": 1], as: TypedEcho.self)
        }
        #expect(rejected?.isPayloadRejected == true)
        #expect(rejected?.data?["message"] == "text: expected String, found a number")
        manager.close()
        try await server.stop()
    }
}
