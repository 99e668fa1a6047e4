import EngineIOCore
import NIOCore
import NIOHTTP1
import Testing

@testable import EngineIOServer

/// CORS on the Engine.IO path, live, and the policy's header logic.
@Suite(.timeLimit(.minutes(2))) struct EngineCORSTests {  // live loopback connections: a hang fails, never stalls
    private static let listed = EngineServerConfiguration(cors: CORSConfiguration(origin: .list(["https://a.example"])))

    @Test func listedOriginIsReflected() async throws {
        try await EngineTestServer.with(Self.listed) { server in
            let (_, _, response) = try await server.handshake(headers: [("Origin", "https://a.example")])
            #expect(response.headers("Access-Control-Allow-Origin") == ["https://a.example"])
            #expect(response.headers("Vary") == ["Origin"])
            #expect(response.header("Access-Control-Allow-Credentials") == nil)
        }
    }

    @Test func otherOriginsGetNoAllowOrigin() async throws {
        try await EngineTestServer.with(Self.listed) { server in
            for origin in ["https://b.example", "https://a.example.evil", "http://a.example", "null"] {
                let (_, _, response) = try await server.handshake(headers: [("Origin", origin)])
                #expect(response.status == 200)  // CORS is the browser's business: the request is served
                #expect(response.header("Access-Control-Allow-Origin") == nil, "\(origin)")
                #expect(response.headers("Vary") == ["Origin"])
            }
            let (_, _, noOrigin) = try await server.handshake()
            #expect(noOrigin.header("Access-Control-Allow-Origin") == nil)
        }
    }

    @Test func credentialsHeader() async throws {
        let configuration = EngineServerConfiguration(
            cors: CORSConfiguration(origin: .list(["https://a.example"]), credentials: true, exposedHeaders: ["X-One", "X-Two"])
        )
        try await EngineTestServer.with(configuration) { server in
            let connection = try await server.connect()
            let (sid, _, response) = try await server.handshake(on: connection, headers: [("Origin", "https://a.example")])
            #expect(response.header("Access-Control-Allow-Origin") == "https://a.example")
            #expect(response.header("Access-Control-Allow-Credentials") == "true")
            #expect(response.header("Access-Control-Expose-Headers") == "X-One,X-Two")
            // on every answer of the path: POSTs and errors too
            let post = try await connection.request(
                "POST", server.path("EIO=4&transport=polling&sid=\(sid)"), headers: [("Origin", "https://a.example")], body: "4x")
            #expect(post.header("Access-Control-Allow-Origin") == "https://a.example")
            #expect(post.header("Access-Control-Allow-Credentials") == "true")
            let error = try await connection.request("GET", server.path("EIO=4&transport=nope"), headers: [("Origin", "https://a.example")])
            #expect(error.status == 400)
            #expect(error.header("Access-Control-Allow-Origin") == "https://a.example")
        }
    }

    @Test func anyOriginIsAStarWithoutCredentials() async throws {
        try await EngineTestServer.with(.init(cors: CORSConfiguration(origin: .any))) { server in
            let (_, _, response) = try await server.handshake(headers: [("Origin", "https://whoever.example")])
            #expect(response.header("Access-Control-Allow-Origin") == "*")
            #expect(response.header("Access-Control-Allow-Credentials") == nil)
        }
        try await EngineTestServer.with(.init(cors: CORSConfiguration(origin: .any, credentials: true))) { server in
            let (_, _, response) = try await server.handshake(headers: [("Origin", "https://whoever.example")])
            #expect(response.header("Access-Control-Allow-Origin") == "https://whoever.example")
            #expect(response.header("Access-Control-Allow-Credentials") == "true")
        }
    }

    @Test func noCORSConfigurationSendsNoCORSHeaders() async throws {
        try await EngineTestServer.with { server in
            let (_, _, response) = try await server.handshake(headers: [("Origin", "https://a.example")])
            #expect(!response.headers.contains { $0.name.lowercased().hasPrefix("access-control-") })
        }
    }

    @Test func preflightIs204WithMethodsAndReflectedHeaders() async throws {
        try await EngineTestServer.with(Self.listed) { server in
            let connection = try await server.connect()
            let preflight = try await connection.request(
                "OPTIONS", server.path("EIO=4&transport=polling"),
                headers: [
                    ("Origin", "https://a.example"),
                    ("Access-Control-Request-Method", "POST"),
                    ("Access-Control-Request-Headers", "content-type,x-custom"),
                ])
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == "https://a.example")
            #expect(preflight.header("Access-Control-Allow-Methods") == "GET,HEAD,PUT,PATCH,POST,DELETE")
            #expect(preflight.header("Access-Control-Allow-Headers") == "content-type,x-custom")
            #expect(preflight.headers("Vary").contains("Access-Control-Request-Headers"))
            #expect(preflight.body.readableBytes == 0)
            #expect(server.engine.clientsCount == 0)

            // the connection stays usable after a preflight
            let (_, _, response) = try await server.handshake(on: connection, headers: [("Origin", "https://a.example")])
            #expect(response.header("Access-Control-Allow-Origin") == "https://a.example")
        }
    }

    @Test func preflightFromAnotherOriginAllowsNoOrigin() async throws {
        try await EngineTestServer.with(Self.listed) { server in
            let preflight = try await server.connect().request(
                "OPTIONS", server.path("EIO=4&transport=polling"),
                headers: [("Origin", "https://b.example"), ("Access-Control-Request-Method", "POST")])
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == nil)
        }
    }

    @Test func preflightWithConfiguredHeadersAndMaxAge() async throws {
        let configuration = EngineServerConfiguration(
            cors: CORSConfiguration(origin: .custom { $0.hasSuffix(".example") }, methods: ["GET", "POST"], allowedHeaders: ["X-A", "X-B"], maxAge: 600)
        )
        try await EngineTestServer.with(configuration) { server in
            let preflight = try await server.connect().request(
                "OPTIONS", server.path("EIO=4&transport=polling"),
                headers: [("Origin", "https://c.example"), ("Access-Control-Request-Headers", "x-other")])
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == "https://c.example")
            #expect(preflight.header("Access-Control-Allow-Methods") == "GET,POST")
            #expect(preflight.header("Access-Control-Allow-Headers") == "X-A,X-B")
            #expect(preflight.header("Access-Control-Max-Age") == "600")
        }
    }

    // MARK: The policy without sockets

    @Test func allows() {
        #expect(CORSConfiguration(origin: .any).allows(origin: "https://x"))
        #expect(CORSConfiguration(origin: .list(["https://a"])).allows(origin: "https://a"))
        #expect(!CORSConfiguration(origin: .list(["https://a"])).allows(origin: "https://a/"))
        #expect(!CORSConfiguration(origin: .list([])).allows(origin: "https://a"))
        #expect(CORSConfiguration(origin: .custom { $0 == "x" }).allows(origin: "x"))
        #expect(!CORSConfiguration(origin: .custom { $0 == "x" }).allows(origin: "y"))
    }

    @Test func preflightHeadersWithoutRequestedHeaders() {
        let cors = CORSConfiguration(origin: .list(["https://a"]))
        let headers = cors.preflightHeaders(request: ["Origin": "https://a"])
        #expect(headers["Access-Control-Allow-Headers"].isEmpty)
        #expect(headers.first(name: "Access-Control-Allow-Origin") == "https://a")
        #expect(headers.first(name: "Content-Length") == "0")
    }
}
