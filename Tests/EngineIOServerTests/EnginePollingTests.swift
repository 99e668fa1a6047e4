import EngineIOCore
import NIOConcurrencyHelpers
import HTTPTypes
import NIOCore
import Testing

@testable import EngineIOServer

/// Live tests of HTTP long-polling against a real server on a loopback port.
@Suite(.timeLimit(.minutes(2))) struct EnginePollingTests {  // live loopback connections: a hang fails, never stalls
    @Test func handshakeAnswersAnOpenPacket() async throws {
        try await EngineTestServer.with { server in
            let (sid, open, response) = try await server.handshake()
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/plain; charset=UTF-8")
            #expect(response.header("Content-Length") == String(response.body.readableBytes))
            #expect(response.header("Set-Cookie") == nil)
            #expect(sid.utf8.count == 20)
            #expect(open["upgrades"] as? [String] == ["websocket"])
            #expect(open["pingInterval"] as? Int == 25_000)
            #expect(open["pingTimeout"] as? Int == 20_000)
            #expect(open["maxPayload"] as? Int == 1_000_000)
            #expect(Set(open.keys) == ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"])
            #expect(server.engine.clientsCount == 1)
            #expect(server.log.events == [.connected(sid: sid)])
        }
    }

    @Test func pathWithoutTrailingSlashIsTheEngine() async throws {
        try await EngineTestServer.with { server in
            let connection = try await server.connect()
            let response = try await connection.request("GET", "/socket.io?EIO=4&transport=polling")
            #expect(response.status == 200)
            #expect(response.text.hasPrefix("0{\"sid\":"))
        }
    }

    @Test func messagesRoundTripThroughAnEchoDelegate() async throws {
        try await EngineTestServer.with { server in
            let connection = try await server.connect()
            let (sid, _, _) = try await server.handshake(on: connection)
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")

            let post = try await connection.request("POST", uri, headers: [("Content-Type", "text/plain;charset=UTF-8")], body: "4hello\u{1e}bAQIDBA==\u{1e}4héllo ✓")
            #expect(post.status == 200)
            #expect(post.text == "ok")
            #expect(
                server.log.messages(of: sid) == [
                    .text("hello"), .binary(ByteBuffer(bytes: [1, 2, 3, 4])), .text("héllo ✓"),
                ]
            )

            // the same keep-alive connection carries the GET that collects the echoes
            let get = try await connection.request("GET", uri)
            #expect(get.status == 200)
            #expect(get.header("Content-Type") == "text/plain; charset=UTF-8")
            #expect(get.text == "4hello\u{1e}bAQIDBA==\u{1e}4héllo ✓")
        }
    }

    @Test func pendingGETIsAnsweredWhenAMessageIsSent() async throws {
        try await EngineTestServer.with { server in
            let (sid, _, _) = try await server.handshake()
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            let poller = try await server.connect()
            try await poller.send("GET", uri)
            // the GET waits: nothing is queued
            try await server.waitForPendingPoll(sid)

            let post = try await server.connect().request("POST", uri, body: "4ping me")
            #expect(post.status == 200)
            let get = try await poller.readResponse()
            #expect(get.status == 200)
            #expect(get.text == "4ping me")
        }
    }

    @Test func serverSendsToAPollingClient() async throws {
        try await EngineTestServer.with(echo: false) { server in
            let (sid, _, _) = try await server.handshake()
            let socket = try #require(server.engine.socket(id: sid))
            socket.send(.text("one"))
            socket.send([.binary(ByteBuffer(bytes: [0xFF])), .text("three")])
            let connection = try await server.connect()
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            // the sends were queued on the session's loop before the GET reaches it
            let received = try await connection.request("GET", uri).text
            #expect(received == "4one\u{1e}b/w==\u{1e}4three")
        }
    }

    @Test func aPollCarriesAtMostMaxPacketsPerPoll() async throws {
        try await EngineTestServer.with(.init(maxPacketsPerPoll: 4), echo: false) { server in
            let connection = try await server.connect()
            let (sid, _, _) = try await server.handshake(on: connection)
            let socket = try #require(server.engine.socket(id: sid))
            try await socket.eventLoop.submit {
                for index in 0..<6 { socket.send(.text("m\(index)")) }
            }.get()
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            #expect(try await connection.request("GET", uri).text == "4m0\u{1e}4m1\u{1e}4m2\u{1e}4m3")
            #expect(try await connection.request("GET", uri).text == "4m4\u{1e}4m5")
        }
    }

    @Test func clientCloseEndsTheSession() async throws {
        try await EngineTestServer.with { server in
            let connection = try await server.connect()
            let (sid, _, _) = try await server.handshake(on: connection)
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            let post = try await connection.request("POST", uri, body: "1")
            #expect(post.status == 200)
            #expect(server.log.closeReasons(of: sid) == ["transport close"])
            // like Node.js, the session is gone at once (a GET already waiting would have got a noop)
            let after = try await connection.request("GET", uri)
            #expect(after.status == 400)
            #expect(after.engineError?.code == 1)
            #expect(server.engine.clientsCount == 0)
        }
    }

    @Test func serverCloseDeliversACloseToThePendingGET() async throws {
        try await EngineTestServer.with { server in
            let (sid, _, _) = try await server.handshake()
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            let poller = try await server.connect()
            try await poller.send("GET", uri)
            try await server.waitForPendingPoll(sid)
            try #require(server.engine.socket(id: sid)).close()
            let get = try await poller.readResponse()
            #expect(get.status == 200)
            #expect(get.text == "1")
            try await server.log.waitUntil("the close") { $0.closeReasons(of: sid) == ["forced close"] }
            let after = try await poller.request("GET", uri)
            #expect(after.status == 400)
            #expect(after.engineError?.code == 1)
            #expect(server.engine.clientsCount == 0)
        }
    }

    @Test func serverCloseDeliversQueuedMessagesThenACloseToTheNextGET() async throws {
        try await EngineTestServer.with(echo: false) { server in
            let connection = try await server.connect()
            let (sid, _, _) = try await server.handshake(on: connection)
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            let socket = try #require(server.engine.socket(id: sid))
            try await socket.eventLoop.submit {
                socket.send(.text("bye"))
                socket.close()
                socket.send(.text("too late"))
            }.get()
            #expect(server.log.closeReasons(of: sid) == ["forced close"])
            let get = try await connection.request("GET", uri)
            #expect(get.status == 200)
            #expect(get.text == "4bye\u{1e}1")
            let after = try await connection.request("GET", uri)
            #expect(after.status == 400)
            #expect(after.engineError?.code == 1)
            #expect(server.log.closeReasons(of: sid) == ["forced close"])  // told once
        }
    }

    @Test func aSecondConcurrentGETIsRefusedAndClosesTheSession() async throws {
        try await EngineTestServer.with { server in
            let (sid, _, _) = try await server.handshake()
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            let first = try await server.connect()
            try await first.send("GET", uri)
            try await server.waitForPendingPoll(sid)
            let second = try await server.connect().request("GET", uri)
            #expect(second.status == 400)
            #expect(second.engineError?.code == 3)
            let firstAnswer = try await first.readResponse()
            #expect(firstAnswer.status == 200)
            try await server.log.waitUntil("the close") { $0.closeReasons(of: sid) == ["transport error"] }
            #expect(try await server.connect().request("GET", uri).engineError?.code == 1)
        }
    }

    @Test func droppingThePendingGETConnectionEndsTheSession() async throws {
        try await EngineTestServer.with { server in
            let (sid, _, _) = try await server.handshake()
            let poller = try await server.connect()
            try await poller.send("GET", server.path("EIO=4&transport=polling&sid=\(sid)"))
            try await server.waitForPendingPoll(sid)
            await poller.close()
            // Node's engine.io names this "transport error" (poll connection closed prematurely)
            try await server.log.waitUntil("the close") { !$0.closeReasons(of: sid).isEmpty }
            #expect(server.engine.clientsCount == 0)
        }
    }

    @Test func idleTimeoutSparesAPendingGET() async throws {
        let http = HTTPServer.Configuration(host: "127.0.0.1", port: 0, idleTimeout: .milliseconds(150))
        try await EngineTestServer.with(http: http, echo: false) { server in
            let (sid, _, _) = try await server.handshake()
            let idle = try await server.connect()
            let poller = try await server.connect()
            try await poller.send("GET", server.path("EIO=4&transport=polling&sid=\(sid)"))
            try await server.waitForPendingPoll(sid)
            // an idle connection is closed; the waiting GET is not
            try await idle.waitForClose()
            try #require(server.engine.socket(id: sid)).send(.text("late"))
            let answer = try await poller.readResponse()
            #expect(answer.text == "4late")
        }
    }

    @Test func malformedPOSTClosesTheSessionWithParseError() async throws {
        try await EngineTestServer.with { server in
            let connection = try await server.connect()
            let (sid, _, _) = try await server.handshake(on: connection)
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            let post = try await connection.request("POST", uri, body: "4ok\u{1e}bAQ=D")
            #expect(post.status == 400)
            #expect(post.engineError?.code == 3)
            #expect(server.log.closeReasons(of: sid) == ["parse error"])
            #expect(server.log.messages(of: sid).isEmpty)  // nothing of a bad payload is delivered
            #expect(try await connection.request("GET", uri).engineError?.code == 1)
        }
    }

    // MARK: Errors

    @Test func requestErrorsAnswerEngineIOJSON() async throws {
        try await EngineTestServer.with { server in
            let connection = try await server.connect()
            let cases: [(method: String, query: String, status: Int, code: Int, message: String)] = [
                ("GET", "EIO=4", 400, 0, "Transport unknown"),
                ("GET", "EIO=4&transport=tobi", 400, 0, "Transport unknown"),
                ("GET", "EIO=4&transport=polling&sid=nope", 400, 1, "Session ID unknown"),
                ("POST", "EIO=4&transport=polling&sid=nope", 400, 1, "Session ID unknown"),
                ("POST", "EIO=4&transport=polling", 400, 2, "Bad handshake method"),
                ("GET", "EIO=4&transport=websocket", 400, 3, "Bad request"),
                ("PUT", "EIO=4&transport=polling&sid=abc", 400, 3, "Bad request"),
                ("OPTIONS", "EIO=4&transport=polling&sid=abc", 400, 3, "Bad request"),
                ("GET", "EIO=3&transport=polling", 400, 5, "Unsupported protocol version"),
                ("GET", "transport=polling", 400, 5, "Unsupported protocol version"),
            ]
            for item in cases {
                let response = try await connection.request(item.method, server.path(item.query), body: item.method == "GET" ? nil : "")
                #expect(response.status == item.status, "\(item)")
                #expect(response.header("Content-Type") == "application/json", "\(item)")
                #expect(response.engineError?.code == item.code, "\(item): \(response)")
                #expect(response.engineError?.message == item.message, "\(item)")
            }
            #expect(server.engine.clientsCount == 0)
            // errors keep the connection usable
            #expect(try await connection.request("GET", server.path("EIO=4&transport=polling")).status == 200)
        }
    }

    @Test func disabledPollingIsAnUnknownTransport() async throws {
        try await EngineTestServer.with(.init(transports: [.websocket])) { server in
            let response = try await server.connect().request("GET", server.path("EIO=4&transport=polling"))
            #expect(response.status == 400)
            #expect(response.engineError?.code == 0)
        }
    }

    // MARK: allowRequest

    @Test func allowRequestRefusesWith403AndItsMessage() async throws {
        let configuration = EngineServerConfiguration(allowRequest: { request in
            request.query["token"] == "good" ? .allow : .refuse(message: "bad \"token\"")
        })
        try await EngineTestServer.with(configuration) { server in
            let connection = try await server.connect()
            let refused = try await connection.request("GET", server.path("EIO=4&transport=polling&token=bad"))
            #expect(refused.status == 403)
            #expect(refused.header("Content-Type") == "application/json")
            #expect(String(buffer: refused.body) == "{\"code\":4,\"message\":\"bad \\\"token\\\"\"}")
            #expect(refused.engineError?.code == 4)
            #expect(refused.engineError?.message == "bad \"token\"")
            #expect(server.engine.clientsCount == 0)
            #expect(server.log.events.isEmpty)

            // a healthy session works next to it
            let (sid, _, _) = try await server.handshake(on: connection, query: "&token=good")
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            #expect(try await connection.request("POST", uri, body: "4still here").text == "ok")
            #expect(try await connection.request("GET", uri).text == "4still here")
            #expect(server.engine.clientsCount == 1)
        }
    }

    @Test func allowRequestDefaultRefusalIsForbidden() async throws {
        try await EngineTestServer.with(.init(allowRequest: { _ in .refuse })) { server in
            let refused = try await server.connect().request("GET", server.path("EIO=4&transport=polling"))
            #expect(refused.status == 403)
            #expect(refused.engineError?.code == 4)
            #expect(refused.engineError?.message == "Forbidden")
        }
    }

    @Test func allowRequestSeesTheHandshake() async throws {
        let seen = SeenRequests()
        let configuration = EngineServerConfiguration(allowRequest: { request in
            seen.record(request)
            return .allow
        })
        try await EngineTestServer.with(configuration) { server in
            _ = try await server.handshake(query: "&name=a%20b", headers: [("X-Test", "yes")])
            let request = try #require(seen.requests.first)
            #expect(seen.requests.count == 1)
            #expect(request.query["name"] == "a b")
            #expect(request.headers[HTTPField.Name("x-test")!] == "yes")
            #expect(request.transport == .polling)
            #expect(request.isSecure == false)
            #expect(request.remoteAddress?.ipAddress == "127.0.0.1")
            #expect(request.uri.hasPrefix("/socket.io/?EIO=4&transport=polling"))
        }
    }

    // MARK: maxHttpBufferSize

    @Test func postOverMaxHttpBufferSizeIs413AndEndsTheSession() async throws {
        try await EngineTestServer.with(.init(maxHttpBufferSize: 100)) { server in
            let (sid, open, _) = try await server.handshake()
            #expect(open["maxPayload"] as? Int == 100)
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")

            // exactly at the limit is fine
            let atLimit = "4" + String(repeating: "a", count: 99)
            let ok = try await server.connect().request("POST", uri, body: atLimit)
            #expect(ok.status == 200)
            #expect(server.log.messages(of: sid) == [.text(String(atLimit.dropFirst()))])

            let tooLarge = try await server.connect().request("POST", uri, body: "4" + String(repeating: "b", count: 100))
            #expect(tooLarge.status == 413)
            #expect(tooLarge.header("Connection")?.lowercased() == "close")
            try await server.log.waitUntil("the close") { !$0.closeReasons(of: sid).isEmpty }
            #expect(server.log.closeReasons(of: sid) == ["transport error"])
            #expect(server.log.messages(of: sid).count == 1)

            let after = try await server.connect().request("GET", uri)
            #expect(after.status == 400)
            #expect(after.engineError?.code == 1)
            #expect(after.engineError?.message == "Session ID unknown")
            #expect(server.engine.clientsCount == 0)
        }
    }

    // MARK: Cookie

    @Test func cookieOptionSetsTheSessionCookie() async throws {
        try await EngineTestServer.with(.init(cookie: EngineCookie())) { server in
            let (sid, _, response) = try await server.handshake()
            #expect(response.headers("Set-Cookie") == ["io=\(sid); Path=/; HttpOnly; SameSite=Lax"])
            // only the handshake sets it
            let get = try await server.connect().request("POST", server.path("EIO=4&transport=polling&sid=\(sid)"), body: "4x")
            #expect(get.header("Set-Cookie") == nil)
        }
    }

    @Test func cookieAttributes() {
        let custom = EngineCookie(name: "sticky", path: "/app", httpOnly: false, sameSite: "Strict", secure: true, maxAge: 60)
        #expect(custom.headerValue(sid: "abc") == "sticky=abc; Path=/app; Max-Age=60; Secure; SameSite=Strict")
        let bare = EngineCookie(path: nil, httpOnly: false, sameSite: nil)
        #expect(bare.headerValue(sid: "abc") == "io=abc")
        #expect(EngineCookie().headerValue(sid: "abc") == "io=abc; Path=/; HttpOnly; SameSite=Lax")
    }
}

/// The handshakes an `allowRequest` hook saw.
final class SeenRequests: Sendable {
    private let box = NIOLockedValueBox<[EngineHandshakeRequest]>([])
    func record(_ request: EngineHandshakeRequest) { self.box.withLockedValue { $0.append(request) } }
    var requests: [EngineHandshakeRequest] { self.box.withLockedValue { $0 } }
}
