// The Admin UI example of README.md (compiled by CI, see Examples.swift).
import EngineIOServer
import SocketIOAdminUI
import SocketIOServer

enum AdminUIExample {
    static func run() async throws {
        // BEGIN admin-ui
        let io = SocketIO(
            configuration: SocketIOServerConfiguration(
                engine: EngineServerConfiguration(
                    cors: CORSConfiguration(origin: .list(["https://admin.socket.io"]), credentials: true)
                )
            )
        )
        try AdminUI.instrument(
            io,
            AdminUIOptions(
                auth: .basic(username: "admin", passwordHash: "$2b$10$mOaGN14Kfg.kqk/pjZae9.JuygDyq.cIneB9tY9V3KEv/AwP8Ffbu"),
                mode: .production  // statistics only; .development also lists every socket, room and event
            )
        )
        try await io.listen(port: 3000)
        // END admin-ui
    }
}
