// The README's Hummingbird example (Sources/socketio-chat-hummingbird is the full chat).
import Hummingbird
import HummingbirdCore
import SocketIOHummingbird
import SocketIOServer

// BEGIN hummingbird
func runOnHummingbird() async throws {
    let io = SocketIO()
    io.use { socket in
        // the handshake as the browser sent it: headers (cookies), query, auth
        guard socket.handshake.headers[.cookie]?.contains("session=") == true else {
            throw ConnectionRefused("sign in first")
        }
    }
    io.on(.connection) { socket in
        socket.on("chat") { args, _ in io.emit("chat", arguments: args) }
    }

    let router = Router()
    router.get("health") { _, _ in "ok" }
    let app = Application(
        router: router,
        server: .http1(socketIO: io),  // /socket.io/ to Socket.IO, the rest to the router
        configuration: .init(address: .hostname("127.0.0.1", port: 8080))
    )
    try await app.runService()  // SIGTERM: clients are told, sessions drain, then the app stops
}
// END hummingbird

/// Hummingbird and SocketIOServer both re-export swift-http-types: in a file importing both, `HTTPRequest`
/// and `HTTPResponse` name one type each (before issue 16, ours clashed with them). Compiled, not run.
func applicationHead(_ request: HTTPServerRequest) -> HTTPResponse.Status {
    let head: HTTPRequest = request.head
    return head.method == .get ? .ok : .methodNotAllowed
}
