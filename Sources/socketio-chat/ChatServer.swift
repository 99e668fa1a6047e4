import ArgumentParser
import EngineIOServer
import Foundation
import Logging
import NIOCore
import Metrics
import Prometheus
import ChatExample
import ServiceLifecycle
import SocketIOAdminUI
import SocketIOAdminUIRedis
import SocketIORedis
import SocketIOServer

/// `socketio-chat`: the chat example, page and Socket.IO on one port.
///
///     swift run socketio-chat --port 3000 --admin-token s3cret --admin-ui
///     open http://127.0.0.1:3000/  (and /admin; the official Admin UI: https://admin.socket.io, namespace /admin-ui)
@main
struct ChatServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio-chat",
        abstract: "A chat server with its web page: rooms, typing indicators, delivery ticks, an admin page."
    )

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port: Int = 3000

    @Option(name: .customLong("admin-token"), help: "The token the /admin page must give (the admin page is off without it).")
    var adminToken: String?

    @Option(help: "Share rooms and broadcasts with other nodes through this Redis (redis://host:port/db).")
    var redis: String?

    @Option(name: .customLong("redis-streams"), help: "Share rooms and broadcasts through Redis Streams (redis://host:port/db): nothing lost while Redis restarts, sessions recoverable on any node.")
    var redisStreams: String?

    @Option(name: .customLong("public"), help: "Serve the pages from this folder instead of the built-in ones (for editing them live).")
    var publicFolder: String?

    @Option(name: .customLong("recovery-window"), help: "Connection state recovery: the longest disconnection (seconds) after which a page comes back with what it missed (0 turns it off).")
    var recoveryWindow: Int64 = 120

    @Flag(help: "No per-connection logs.")
    var quiet = false

    @Flag(help: "Serve the server's metrics (connections, packets, bytes, broadcasts, disconnect reasons) at /metrics for Prometheus.")
    var metrics = false

    @OptionGroup(title: "The official Socket.IO Admin UI")
    var adminUI: ChatAdminUIArguments

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = quiet ? .warning : .info
            return handler
        }
        let logger = Logger(label: "socketio-chat")
        if let password = adminUI.bcryptHash {
            print(BCrypt.hash(password, cost: 10))
            return
        }
        let registry = PrometheusCollectorRegistry()
        if metrics {
            // before the server exists: its instruments are created from the bootstrapped factory
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        }
        let serveMetrics = metrics
        guard let folder = publicFolder ?? ChatApp.publicFolder else {
            throw ValidationError("the page folder (Public) is missing from the build")
        }

        // A page whose connection drops comes back as the same socket, with the messages it missed.
        var configuration = ChatApp.serverConfiguration(recoveryWindow: recoveryWindow > 0 ? .seconds(recoveryWindow) : nil)
        // --admin-ui: the Admin UI's page (another origin) connects with credentials
        configuration.engine.cors = adminUI.cors
        // MARK: --redis: join the cluster (rooms and broadcasts shared through Redis; ChatState stays per node).
        var redisFactory: RedisAdapterFactory? = nil
        if let redis {
            let factory = try RedisAdapterFactory(url: redis, logger: Logger(label: "socket.io.redis"))
            configuration.adapter = factory.adapter
            redisFactory = factory
            logger.info("joining the cluster through Redis", metadata: ["redis.url": "\(redis)"])
        }
        var streamsFactory: RedisStreamsAdapterFactory? = nil
        if let redisStreams {
            let factory = try RedisStreamsAdapterFactory(url: redisStreams, logger: Logger(label: "socket.io.redis"))
            configuration.adapter = factory.adapter
            streamsFactory = factory
            logger.info("joining the cluster through Redis Streams", metadata: ["redis.url": "\(redisStreams)"])
        }

        let io = SocketIO(configuration: configuration, logger: Logger(label: "socket.io"))
        ChatApp(io: io, adminToken: adminToken).install()
        try adminUI.instrument(
            io, sessions: redisFactory.map { RedisAdminSessionStore(sharing: $0) } ?? streamsFactory.flatMap { RedisAdminSessionStore(sharing: $0) })
        try await redisFactory?.waitUntilConnected()
        try await streamsFactory?.waitUntilReady()

        let files = StaticFiles(root: folder)
        let application: HTTPRequestHandler = { request in
            switch request.path {
            case "/admin", "/admin/":
                return files.response(for: request, file: "admin.html") ?? .notFound
            case "/healthz":
                return .text("ok")
            case "/metrics" where serveMetrics:
                var body = ByteBuffer()
                body.writeBytes(registry.emitToBuffer())
                return HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/plain; version=0.0.4"], body: body)
            default:
                return await files.handler()(request)
            }
        }
        // Binds when the service group runs it; SIGTERM / SIGINT shut it down gracefully.
        let server = io.makeHTTPServer(host: host, port: port, application: application)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: Logger(label: "lifecycle")
            )
        )
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                let port = try await server.localAddress.port ?? port
                let shown = host.contains(":") ? "[\(host)]" : host
                FileHandle.standardOutput.write(Data("socketio-chat listening on http://\(shown):\(port)/\n".utf8))
                if adminToken == nil {
                    FileHandle.standardOutput.write(Data("(the admin page is off: give --admin-token to enable /admin)\n".utf8))
                }
                if adminUI.isOn {
                    let auth = adminUI.auth == nil ? "no authentication" : "basic authentication"
                    FileHandle.standardOutput.write(Data("the Admin UI can connect: https://admin.socket.io, server URL http://\(shown):\(port), admin namespace \(adminUI.namespace) (\(auth))\n".utf8))
                }
            }
        }
    }
}
