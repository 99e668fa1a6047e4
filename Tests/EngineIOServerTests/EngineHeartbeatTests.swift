import EngineIOCore
import NIOCore
import Testing

@testable import EngineIOServer

/// The server's heartbeat over long-polling, with short intervals.
@Suite(.timeLimit(.minutes(2))) struct EngineHeartbeatTests {  // live loopback connections: a hang fails, never stalls
    @Test func pingTimeoutClosesASilentPollingSession() async throws {
        // A timeout of 1 s: the first GET must come before the session ends (with 100 ms a loaded machine
        // sent it too late and got 400).
        try await EngineTestServer.with(.init(pingInterval: .milliseconds(100), pingTimeout: .seconds(1))) { server in
            let connection = try await server.connect()
            let (sid, open, _) = try await server.handshake(on: connection)
            #expect(open["pingInterval"] as? Int == 100)
            #expect(open["pingTimeout"] as? Int == 1000)
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")

            let ping = try await connection.request("GET", uri)
            #expect(ping.status == 200)
            #expect(ping.text == "2")
            // no pong
            try await server.log.waitUntil("the ping timeout") { !$0.closeReasons(of: sid).isEmpty }
            #expect(server.log.closeReasons(of: sid) == ["ping timeout"])
            #expect(server.engine.clientsCount == 0)

            let after = try await connection.request("GET", uri)
            #expect(after.status == 400)
            #expect(after.engineError?.code == 1)
        }
    }

    @Test func pongsKeepAPollingSessionOpen() async throws {
        // a generous pingTimeout: the test must not depend on how fast this machine answers
        try await EngineTestServer.with(.init(pingInterval: .milliseconds(100), pingTimeout: .seconds(3))) { server in
            let connection = try await server.connect()
            let (sid, _, _) = try await server.handshake(on: connection)
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            for _ in 0..<3 {
                #expect(try await connection.request("GET", uri).text == "2")
                #expect(try await connection.request("POST", uri, body: "3").text == "ok")
            }
            #expect(server.log.closeReasons(of: sid).isEmpty)
            #expect(server.engine.clientsCount == 1)
            // a pong carries no message
            #expect(server.log.messages(of: sid).isEmpty)
        }
    }

    @Test func pingTimeoutWhileAGETIsPendingEndsThatGET() async throws {
        // The second GET must be pending when the timeout fires: a timeout of 100 ms lost that race on a
        // loaded machine (the GET came after the session had ended); 2 s leaves room, and costs 2 s.
        try await EngineTestServer.with(.init(pingInterval: .milliseconds(100), pingTimeout: .seconds(2))) { server in
            let connection = try await server.connect()
            let (sid, _, _) = try await server.handshake(on: connection)
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            #expect(try await connection.request("GET", uri).text == "2")
            // poll again and stay silent: the timeout must not leave this GET hanging
            let answer = try await connection.request("GET", uri)
            #expect(answer.status == 200)
            // (the GET is answered as the session ends; the close is logged right after, on the server's loop)
            try await server.log.waitUntil("the ping timeout") { !$0.closeReasons(of: sid).isEmpty }
            #expect(server.log.closeReasons(of: sid) == ["ping timeout"])
        }
    }

    /// Sessions share one heartbeat queue per event loop: silent ones anywhere in it time out while the
    /// ones around them, which answer every ping, stay open.
    @Test func silentSessionsAmongLiveOnesTimeOutAlone() async throws {
        // A timeout of 3 s: with 1 s, a live session's pong came too late on a loaded machine (load ~16).
        try await EngineTestServer.with(.init(pingInterval: .milliseconds(100), pingTimeout: .seconds(3))) { server in
            var sessions: [(sid: String, connection: TestConnection, silent: Bool)] = []
            for index in 0..<6 {
                let connection = try await server.connect()
                let (sid, _, _) = try await server.handshake(on: connection)
                sessions.append((sid, connection, index % 2 == 1))
            }
            // The live sessions answer pings until well after the silent ones' deadline (about 3.1 s).
            let answerUntil = ContinuousClock.now + .milliseconds(4500)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for session in sessions {
                    let uri = server.path("EIO=4&transport=polling&sid=\(session.sid)")
                    group.addTask {
                        repeat {
                            let ping = try await session.connection.request("GET", uri)
                            #expect(ping.text == "2")
                            if session.silent { return }
                            let pong = try await session.connection.request("POST", uri, body: "3")
                            #expect(pong.text == "ok")
                        } while ContinuousClock.now < answerUntil
                    }
                }
                try await group.waitForAll()
            }
            // Checked at once: the live sessions answered their last ping moments ago.
            for session in sessions where !session.silent {
                #expect(server.log.closeReasons(of: session.sid).isEmpty)
            }
            for session in sessions where session.silent {
                try await server.log.waitUntil("the ping timeout of \(session.sid)") { !$0.closeReasons(of: session.sid).isEmpty }
                #expect(server.log.closeReasons(of: session.sid) == ["ping timeout"])
            }
        }
    }
}
