// The README's Vapor example: Socket.IO's handshakes behind the application's authentication.
// (Sources/socketio-chat-vapor is the full chat; Tests/Interop/test_framework_mounts.py runs this pattern
// end to end with `socketio-conformance-server --mount vapor-signed-in`.)
import SocketIOServer
import SocketIOVapor
import Vapor

struct User: Authenticatable, Sendable {
    let name: String
}

/// The application's own authentication: a bearer token names a user.
struct UserAuthenticator: AsyncBearerAuthenticator {
    func authenticate(bearer: BearerAuthorization, for request: Request) async throws {
        if bearer.token == "alice-token" { request.auth.login(User(name: "alice")) }
    }
}

// BEGIN vapor
func runOnVapor() async throws {
    let app = try await Application.make(.detect())
    let io = SocketIO()
    io.use { socket in
        // the user the application's authentication middleware found for the handshake
        guard let user = socket.handshake.user as? User else { throw ConnectionRefused("sign in first") }
        socket.data = ["name": .string(user.name)]
    }
    io.on(.connection) { socket in
        socket.on("chat") { args, _ in io.emit("chat", arguments: [socket.data["name"] ?? .null] + args) }
    }

    app.get("health") { _ in "ok" }
    // handshakes pass the application's middleware (a 401 without a token), the rest of a session does not
    let signedIn = app.grouped(UserAuthenticator(), User.guardMiddleware())
    app.mount(io, on: signedIn) { request in try request.auth.require(User.self) }
    try await app.execute()  // SIGTERM: clients are told, sessions drain, then the app stops
    try await app.asyncShutdown()
}
// END vapor
