import EngineIOCore
import NIOCore
import HTTPTypes
import NIOHTTP1
import Testing

@testable import EngineIOServer

/// The HTTP server around the engine: application routes, limits, bad requests, shutdown.
@Suite(.timeLimit(.minutes(2))) struct HTTPServerTests {  // live loopback connections: a hang fails, never stalls
    private static let application: HTTPRequestHandler = { request in
        switch (request.method, request.path) {
        case (.get, "/head"):
            // the head as swift-http-types has it: Host is the authority, not a header field
            let head = request.head
            return .text("\(head.method) \(head.scheme ?? "-") \(head.authority ?? "-") \(head.path ?? "-") \(request.headerFields[HTTPField.Name("Host")!] ?? "no host field") \(request.headerFields[HTTPField.Name("X-Test")!] ?? "-")")
        case (.get, "/hello"):
            return .text("hello \(request.target[query: "name"] ?? "nobody")")
        case (.post, "/echo"):
            var response = HTTPServerResponse(status: .created, headerFields: [HTTPField.Name("X-Method")!: "\(request.method)"], body: request.body)
            response.headerFields[.contentType] = "application/octet-stream"
            return response
        default:
            return .notFound
        }
    }

    @Test func nonEnginePathsReachTheApplication() async throws {
        try await EngineTestServer.with(application: Self.application) { server in
            let connection = try await server.connect()
            let hello = try await connection.request("GET", "/hello?name=a+b")
            #expect(hello.status == 200)
            #expect(hello.text == "hello a b")
            #expect(hello.header("Content-Type") == "text/plain; charset=utf-8")
            #expect(hello.header("Content-Length") == "9")

            let echo = try await connection.request("POST", "/echo", body: "payload ✓")
            #expect(echo.status == 201)
            #expect(echo.text == "payload ✓")
            #expect(echo.header("X-Method") == "POST")

            let head = try await connection.request("GET", "/head?q=1", headers: [("X-Test", "yes")])
            #expect(head.text.hasPrefix("GET http "))
            #expect(head.text.hasSuffix(" /head?q=1 no host field yes"))
            #expect(head.text.contains(" 127.0.0.1"))

            let missing = try await connection.request("GET", "/nothing")
            #expect(missing.status == 404)
            // paths that only start like the engine's are the application's
            #expect(try await connection.request("GET", "/socket.io/x?EIO=4&transport=polling").status == 404)

            // the engine still works, on the same keep-alive connection
            let (sid, _, _) = try await server.handshake(on: connection)
            let uri = server.path("EIO=4&transport=polling&sid=\(sid)")
            #expect(try await connection.request("POST", uri, body: "4x").text == "ok")
            #expect(try await connection.request("GET", uri).text == "4x")
            #expect(try await connection.request("GET", "/hello").text == "hello nobody")
        }
    }

    @Test func withoutAnApplicationOtherPathsAre404() async throws {
        try await EngineTestServer.with { server in
            let response = try await server.connect().request("GET", "/index.html")
            #expect(response.status == 404)
        }
    }

    @Test func applicationBodyOverTheLimitIs413() async throws {
        let http = HTTPServer.Configuration(host: "127.0.0.1", port: 0, maxRequestBodySize: 10)
        try await EngineTestServer.with(http: http, application: Self.application) { server in
            let connection = try await server.connect()
            let response = try await connection.request("POST", "/echo", body: String(repeating: "x", count: 11))
            #expect(response.status == 413)
            try await connection.waitForClose()
            #expect(try await server.connect().request("POST", "/echo", body: "0123456789").status == 201)
        }
    }

    @Test func malformedRequestIs400AndCloses() async throws {
        try await EngineTestServer.with { server in
            let connection = try await server.connect()
            try await connection.write("THIS IS NOT HTTP\r\n\r\n")
            let response = try await connection.readResponse()
            #expect(response.status == 400)
            #expect(response.header("Connection")?.lowercased() == "close")
            try await connection.waitForClose()
        }
    }

    @Test func oversizedHeadIs431() async throws {
        let http = HTTPServer.Configuration(host: "127.0.0.1", port: 0, maxHeaderSize: 1024)
        try await EngineTestServer.with(http: http) { server in
            let connection = try await server.connect()
            try await connection.send("GET", server.path("EIO=4&transport=polling"), headers: [("X-Big", String(repeating: "a", count: 4096))])
            let response = try await connection.readResponse()
            #expect(response.status == 431)
            try await connection.waitForClose()
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await EngineTestServer.with { server in
            let connection = try await server.connect()
            let response = try await connection.request("GET", server.path("EIO=4&transport=polling"), headers: [("Connection", "close")])
            #expect(response.status == 200)
            #expect(response.header("Connection")?.lowercased() == "close")
            try await connection.waitForClose()
        }
    }

    @Test func startReturnsTheBoundAddress() async throws {
        try await EngineTestServer.with { server in
            #expect(server.address.port != 0)
            #expect(server.http.port == server.address.port)
            #expect(server.address.ipAddress == "127.0.0.1")
        }
    }

    @Test func shutdownClosesSessionsWithAProperClose() async throws {
        let server = try await EngineTestServer.start()
        let (sid, _, _) = try await server.handshake()
        let poller = try await server.connect()
        try await poller.send("GET", server.path("EIO=4&transport=polling&sid=\(sid)"))
        try await server.waitForPendingPoll(sid)
        try await server.http.shutdown(gracePeriod: .seconds(2))
        let answer = try await poller.readResponse()
        #expect(answer.status == 200)
        #expect(answer.text == "1")
        #expect(server.log.closeReasons(of: sid) == ["server shutting down"])
        #expect(server.engine.clientsCount == 0)
        await #expect(throws: (any Error).self) { _ = try await server.connect().request("GET", "/") }
        await poller.close()
    }
}
