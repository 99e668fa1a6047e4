import ChatExample
import SocketIOServer
import SocketIOVapor
import Vapor

/// `socketio-chat-vapor`: the chat example mounted on a Vapor 4 application, with the same page as
/// `socketio-chat`, on the application's own port, middleware and lifecycle.
///
///     swift run socketio-chat-vapor serve --hostname 127.0.0.1 --port 3000
///     (ADMIN_TOKEN=... turns the admin page on)
@main
enum VaporChat {
    static func main() async throws {
        var env = try Environment.detect()
        try LoggingSystem.bootstrap(from: &env)
        let app = try await Application.make(env)

        let io = SocketIO(configuration: ChatApp.serverConfiguration())
        ChatApp(io: io, adminToken: Environment.get("ADMIN_TOKEN")).install()
        app.middleware.use(FileMiddleware(publicDirectory: (ChatApp.publicFolder ?? "Public") + "/", defaultFile: "index.html"))
        app.get("healthz") { _ in "ok" }
        app.mount(io)  // Socket.IO under /socket.io/, ahead of the other middleware

        do {
            try await app.execute()  // SIGTERM / SIGINT: clients are told, sessions drain
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }
}
