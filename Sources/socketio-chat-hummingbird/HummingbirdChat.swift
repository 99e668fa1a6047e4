import ArgumentParser
import ChatExample
import Foundation
import Hummingbird
import HummingbirdCore
import SocketIOHummingbird
import SocketIOServer

/// `socketio-chat-hummingbird`: the chat example mounted on a Hummingbird 2 application, with the same page
/// as `socketio-chat`, on the application's own port, router and lifecycle.
///
///     swift run socketio-chat-hummingbird --port 3000
@main
struct HummingbirdChat: AsyncParsableCommand {
    @Option var host = "127.0.0.1"
    @Option var port = 3000
    @Option(name: .customLong("admin-token")) var adminToken: String?

    func run() async throws {
        let io = SocketIO(configuration: ChatApp.serverConfiguration())
        ChatApp(io: io, adminToken: adminToken).install()

        let router = Router()
        router.add(middleware: FileMiddleware(ChatApp.publicFolder ?? "Public", searchForIndexHtml: true))
        router.get("healthz") { _, _ in "ok" }
        let app = Application(
            router: router,
            server: .http1(socketIO: io),  // Socket.IO under /socket.io/, everything else to the router
            configuration: .init(address: .hostname(host, port: port)),
            onServerRunning: { _ in
                FileHandle.standardOutput.write(Data("socketio-chat-hummingbird listening on http://\(host):\(port)/\n".utf8))
            }
        )
        try await app.runService()  // SIGTERM / SIGINT: clients are told, sessions drain
    }
}
