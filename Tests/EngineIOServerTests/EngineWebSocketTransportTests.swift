import EngineIOCore
import Foundation
import NIOCore
import Testing

@testable import EngineIOServer

/// Live tests of the WebSocket transport: handshakes, the origin check, the upgrade from polling.
@Suite(.timeLimit(.minutes(2))) struct EngineWebSocketTransportTests {  // live loopback connections: a hang fails, never stalls
    private static let listed = EngineServerConfiguration(cors: CORSConfiguration(origin: .list(["https://a.example"])))

    /// Opens a WebSocket session; returns the connection, the 101 answer and the open packet's JSON.
    private func openWebSocket(
        _ server: EngineTestServer,
        origin: String? = nil,
        query: String = "EIO=4&transport=websocket"
    ) async throws -> (TestConnection, RawResponse, [String: Any]) {
        let connection = try await server.connect()
        let response = try await connection.request("GET", server.path(query), headers: EngineTestServer.webSocketHeaders(origin: origin))
        guard response.status == 101 else { throw TestClientError.malformed("expected 101, got \(response)") }
        let open = try await connection.readFrame()
        guard open.opcode == RawWebSocketFrame.textOpcode, open.text.hasPrefix("0") else {
            throw TestClientError.malformed("expected an open packet, got \(open)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(open.text.dropFirst().utf8)) as? [String: Any] ?? [:]
        return (connection, response, json)
    }

    @Test func webSocketHandshakeOpensASessionAndEchoes() async throws {
        try await EngineTestServer.with { server in
            let (connection, response, open) = try await openWebSocket(server)
            #expect(response.header("Upgrade")?.lowercased() == "websocket")
            #expect(response.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            let sid = try #require(open["sid"] as? String)
            #expect(open["upgrades"] as? [String] == [])
            #expect(open["maxPayload"] as? Int == 1_000_000)
            #expect(server.log.events == [.connected(sid: sid)])

            try await connection.sendText("4hello ✓")
            let echo = try await connection.readFrame()
            #expect(echo == RawWebSocketFrame(fin: true, opcode: RawWebSocketFrame.textOpcode, payload: ByteBuffer(string: "4hello ✓")))

            try await connection.sendFrame(opcode: RawWebSocketFrame.binaryOpcode, [1, 2, 3])
            let binary = try await connection.readFrame()
            #expect(binary == RawWebSocketFrame(fin: true, opcode: RawWebSocketFrame.binaryOpcode, payload: ByteBuffer(bytes: [1, 2, 3])))
            #expect(server.log.messages(of: sid) == [.text("hello ✓"), .binary(ByteBuffer(bytes: [1, 2, 3]))])

            // a polling request for a WebSocket session is a bad request
            let poll = try await server.connect().request("GET", server.path("EIO=4&transport=polling&sid=\(sid)"))
            #expect(poll.status == 400)
            #expect(poll.engineError?.code == 3)

            try await connection.sendText("1")
            try await server.log.waitUntil("the close") { $0.closeReasons(of: sid) == ["transport close"] }
            #expect(server.engine.clientsCount == 0)
        }
    }

    @Test func cookieOnTheWebSocketHandshake() async throws {
        try await EngineTestServer.with(.init(cookie: EngineCookie())) { server in
            let (_, response, open) = try await openWebSocket(server)
            let sid = try #require(open["sid"] as? String)
            #expect(response.headers("Set-Cookie") == ["io=\(sid); Path=/; HttpOnly; SameSite=Lax"])
        }
    }

    // MARK: Origin

    @Test func disallowedOriginIsRefusedWhenCORSIsAList() async throws {
        try await EngineTestServer.with(Self.listed) { server in
            let connection = try await server.connect()
            let response = try await connection.request(
                "GET", server.path("EIO=4&transport=websocket"), headers: EngineTestServer.webSocketHeaders(origin: "https://evil.example"))
            #expect(response.status == 403)
            #expect(response.engineError?.code == 4)
            #expect(response.engineError?.message == "Forbidden")
            #expect(response.header("Sec-WebSocket-Accept") == nil)
            try await connection.waitForClose()
            #expect(server.engine.clientsCount == 0)
            #expect(server.log.events.isEmpty)
        }
    }

    @Test func allowedAndSameOriginsAreAcceptedWhenCORSIsAList() async throws {
        try await EngineTestServer.with(Self.listed) { server in
            let (listed, _, _) = try await openWebSocket(server, origin: "https://a.example")
            let (sameOrigin, _, _) = try await openWebSocket(server, origin: server.origin)
            let (noOrigin, _, _) = try await openWebSocket(server)  // not a browser
            for connection in [listed, sameOrigin, noOrigin] {
                try await connection.sendText("4hi")
                #expect(try await connection.readFrame().text == "4hi")
            }
            #expect(server.engine.clientsCount == 3)
        }
    }

    @Test func withoutCORSOnlyTheSameOriginMayUpgrade() async throws {
        try await EngineTestServer.with { server in
            let foreign = try await server.connect().request(
                "GET", server.path("EIO=4&transport=websocket"), headers: EngineTestServer.webSocketHeaders(origin: "https://a.example"))
            #expect(foreign.status == 403)
            #expect(foreign.engineError?.code == 4)
            _ = try await openWebSocket(server, origin: server.origin)
            // the host comparison is case-insensitive
            _ = try await openWebSocket(server, origin: "HTTP://127.0.0.1:\(server.port)")
            // another port is another origin
            let otherPort = try await server.connect().request(
                "GET", server.path("EIO=4&transport=websocket"),
                headers: EngineTestServer.webSocketHeaders(origin: "http://127.0.0.1:\(server.port == 1 ? 2 : server.port - 1)"))
            #expect(otherPort.status == 403)
        }
    }

    // MARK: Upgrade from polling

    @Test func pollingUpgradesToWebSocket() async throws {
        try await EngineTestServer.with { server in
            let (sid, _, _) = try await server.handshake()
            let pollURI = server.path("EIO=4&transport=polling&sid=\(sid)")
            let poller = try await server.connect()
            try await poller.send("GET", pollURI)
            try await server.waitForPendingPoll(sid)

            let webSocket = try await server.connect()
            let response = try await webSocket.request(
                "GET", server.path("EIO=4&transport=websocket&sid=\(sid)"), headers: EngineTestServer.webSocketHeaders())
            #expect(response.status == 101)
            try await webSocket.sendText("2probe")
            #expect(try await webSocket.readFrame().text == "3probe")
            // the pending GET is ended so that the client can pause polling
            let paused = try await poller.readResponse()
            #expect(paused.status == 200)
            #expect(paused.text == "6")

            // sent while the client is paused between the probe and the upgrade: not lost
            let socket = try #require(server.engine.socket(id: sid))
            try await socket.eventLoop.submit { socket.send(.text("in between")) }.get()
            try await webSocket.sendText("5")
            #expect(try await webSocket.readFrame().text == "4in between")
            try await webSocket.sendText("4over websocket")
            #expect(try await webSocket.readFrame().text == "4over websocket")
            socket.send(.text("from server"))
            #expect(try await webSocket.readFrame().text == "4from server")
            #expect(try await socket.eventLoop.submit { socket.transportName }.get() == .websocket)
            #expect(server.log.messages(of: sid) == [.text("over websocket")])

            let late = try await poller.request("GET", pollURI)
            #expect(late.status == 400)
            #expect(late.engineError?.code == 3)
        }
    }

    @Test func anUnfinishedUpgradeTimesOutAndPollingGoesOn() async throws {
        try await EngineTestServer.with(.init(upgradeTimeout: .milliseconds(150))) { server in
            let connection = try await server.connect()
            let (sid, _, _) = try await server.handshake(on: connection)
            let webSocket = try await server.connect()
            let response = try await webSocket.request(
                "GET", server.path("EIO=4&transport=websocket&sid=\(sid)"), headers: EngineTestServer.webSocketHeaders())
            #expect(response.status == 101)
            try await webSocket.sendText("2probe")
            #expect(try await webSocket.readFrame().text == "3probe")
            // no `5`: the probe is closed
            try await webSocket.completeCloseHandshake()
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            #expect(try await connection.request("POST", uri, body: "4still polling").text == "ok")
            #expect(try await connection.request("GET", uri).text == "4still polling")
            #expect(server.log.closeReasons(of: sid).isEmpty)
        }
    }

    @Test func upgradeForAnUnknownSidIsRefused() async throws {
        try await EngineTestServer.with { server in
            let response = try await server.connect().request(
                "GET", server.path("EIO=4&transport=websocket&sid=nope"), headers: EngineTestServer.webSocketHeaders())
            #expect(response.status == 400)
            #expect(response.engineError?.code == 1)
        }
    }

    // MARK: Closing and heartbeat

    @Test func serverCloseSendsACloseThenClosesTheWebSocket() async throws {
        try await EngineTestServer.with(echo: false) { server in
            let (connection, _, open) = try await openWebSocket(server)
            let sid = try #require(open["sid"] as? String)
            let socket = try #require(server.engine.socket(id: sid))
            try await socket.eventLoop.submit {
                socket.send(.text("bye"))
                socket.close()
            }.get()
            let (code, packets) = try await connection.completeCloseHandshake()
            #expect(packets == ["4bye", "1"])
            #expect(code == 1000)
            #expect(server.log.closeReasons(of: sid) == ["forced close"])
        }
    }

    @Test func webSocketMessageOverMaxHttpBufferSizeEndsTheSession() async throws {
        try await EngineTestServer.with(.init(maxHttpBufferSize: 100)) { server in
            let (connection, _, open) = try await openWebSocket(server)
            let sid = try #require(open["sid"] as? String)
            try await connection.sendText("4" + String(repeating: "a", count: 99))
            #expect(try await connection.readFrame().text.count == 100)
            try await connection.sendText("4" + String(repeating: "a", count: 100))
            let (code, packets) = try await connection.completeCloseHandshake()
            #expect(code == 1009)
            #expect(packets.isEmpty)
            try await server.log.waitUntil("the close") { !$0.closeReasons(of: sid).isEmpty }
            #expect(server.log.messages(of: sid).count == 1)
        }
    }

    @Test func webSocketPingsAndPongs() async throws {
        try await EngineTestServer.with(.init(pingInterval: .milliseconds(100), pingTimeout: .seconds(2))) { server in
            let (connection, _, open) = try await openWebSocket(server)
            let sid = try #require(open["sid"] as? String)
            for _ in 0..<3 {
                #expect(try await connection.readFrame().text == "2")
                try await connection.sendText("3")
            }
            #expect(server.log.closeReasons(of: sid).isEmpty)
        }
    }

    @Test func webSocketPingTimeout() async throws {
        try await EngineTestServer.with(.init(pingInterval: .milliseconds(100), pingTimeout: .milliseconds(100))) { server in
            let (connection, _, open) = try await openWebSocket(server)
            let sid = try #require(open["sid"] as? String)
            #expect(try await connection.readFrame().text == "2")
            try await server.log.waitUntil("the ping timeout") { !$0.closeReasons(of: sid).isEmpty }
            #expect(server.log.closeReasons(of: sid) == ["ping timeout"])
            #expect(server.engine.clientsCount == 0)
            try await connection.completeCloseHandshake()
        }
    }
}
