import Foundation
import NIOSSL
import SocketIOServer
import SocketIOVapor
import Vapor

/// The fixture mounted on a Vapor 4 application that has routes, middleware and a WebSocket route of its
/// own; `signedIn`: behind the application's bearer-token authentication, the user reaching Socket.IO
/// middleware through the handshake.
enum VaporMount {
    static func run(io: SocketIO, host: String, port: Int, tls: TLSConfiguration?, signedIn: Bool = false) async throws {
        let app = try await Application.make(Environment(name: "production", arguments: ["socketio-conformance-server"]))
        app.http.server.configuration.hostname = host
        app.http.server.configuration.port = port
        app.http.server.configuration.tlsConfiguration = tls
        app.middleware.use(VaporAppMarker())
        app.get("health") { _ in "ok" }
        app.webSocket("app-echo") { _, ws in
            ws.onText { ws, text in ws.send(text) }
        }
        if signedIn {
            let signedInRoutes = app.grouped(FixtureTokenAuthenticator(), FixtureUser.guardMiddleware())
            app.mount(io, on: signedInRoutes) { request in try request.auth.require(FixtureUser.self) }
            io.use { socket in
                guard let user = socket.handshake.user as? FixtureUser else { throw ConnectionRefused("no user") }
                socket.data = ["user": .string(user.name)]
            }
            io.on(.connection) { socket in
                socket.on("whoami") { _, ack in ack?(socket.data["user"] ?? .null) }
            }
        } else {
            app.mount(io)
        }
        FileHandle.standardOutput.write(Data("listening on \(host):\(port) (vapor)\n".utf8))
        // Vapor's serve command traps SIGTERM / SIGINT; then the application's shutdown closes the Socket.IO
        // sessions properly before the server stops.
        do {
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}

/// The application's own middleware: marks its answers, and answers its 404s itself, so that tests can
/// tell the application's answers from Socket.IO's.
struct VaporAppMarker: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response: Response
        do {
            response = try await next.respond(to: request)
        } catch let error as any AbortError where error.status == .notFound {
            response = Response(status: .notFound, body: .init(string: "app 404"))
        }
        response.headers.replaceOrAdd(name: "X-App-Middleware", value: "vapor")
        return response
    }
}
