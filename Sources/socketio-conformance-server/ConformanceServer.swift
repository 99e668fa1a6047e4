import ArgumentParser
import EngineIOServer
import Foundation
import Logging
import Metrics
import NIOCore
import NIOSSL
import Prometheus
import ServiceLifecycle
import SocketIOAdminUI
import SocketIOAdminUIRedis
import SocketIORedis
import SocketIOServer

/// The server the protocol test suites and the interop tests run against.
@main
struct ConformanceServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio-conformance-server",
        abstract: "Socket.IO / Engine.IO fixture server for conformance and interop tests."
    )

    @Option(help: "Port to listen on.")
    var port: Int = 3000

    @Option(help: "Address to bind.")
    var host: String = "127.0.0.1"

    @Flag(help: "Run a bare Engine.IO echo server under /engine.io/ instead of the Socket.IO fixture.")
    var engine = false

    @Flag(name: .customLong("websocket-echo"), help: "Run a plain WebSocket echo server at / (permessage-deflate on), for Autobahn.")
    var webSocketEcho = false

    @Flag(help: "Serve only the benchmark events (bench-broadcast, echo, join, emit-to), as benchmarks/python_server.py does.")
    var bench = false

    @Flag(help: "No per-connection logs.")
    var quiet = false

    @Option(name: .customLong("ping-interval"), help: "pingInterval in milliseconds.")
    var pingInterval: Int64 = 300

    @Option(name: .customLong("ping-timeout"), help: "pingTimeout in milliseconds.")
    var pingTimeout: Int64 = 200

    @Option(name: .customLong("idle-timeout"), help: "Close HTTP connections idle (or stalled mid-request) this many ms.")
    var idleTimeout: Int64 = 60_000

    @Option(name: .customLong("max-buffered-bytes"), help: "Disconnect clients with more than this many bytes waiting to be sent.")
    var maxBufferedBytes: Int = 8 << 20

    @Option(name: .customLong("tls-cert"), help: "Serve HTTPS/WSS with this PEM certificate chain (with --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key for --tls-cert.")
    var tlsKey: String?

    @Flag(name: .customLong("bind-session-to-address"), help: "Accept a session's requests only from its handshake's IP address.")
    var bindSessionToAddress = false

    @Flag(name: .customLong("per-message-deflate"), help: "Offer permessage-deflate on WebSocket connections.")
    var perMessageDeflate = false

    @Option(name: .customLong("connect-timeout"), help: "connectTimeout in milliseconds (the suites expect 1000).")
    var connectTimeout: Int64 = 1000

    @Option(name: .customLong("max-dynamic-namespaces"), help: "The most namespaces dynamic namespaces may create.")
    var maxDynamicNamespaces: Int = 1000

    @Option(name: .customLong("connection-state-recovery"), help: "Turn connection state recovery on, with this maxDisconnectionDuration in milliseconds.")
    var connectionStateRecovery: Int64?

    @Option(name: .customLong("recovery-max-bytes"), help: "With --connection-state-recovery: the most bytes of packets kept per namespace.")
    var recoveryMaxBytes: Int = 32 << 20

    @Option(name: .customLong("flow-high-water-mark"), help: "Flow control: bytes waiting for a recipient past which its publishers are held back (0 turns flow control off).")
    var flowHighWaterMark: Int = 1 << 20

    @Option(name: .customLong("flow-stall-timeout"), help: "Flow control: milliseconds a congested recipient may take nothing before it is cut.")
    var flowStallTimeout: Int64 = 10_000

    @Flag(help: "Serve the server's metrics at /metrics (swift-prometheus), as socketio-chat --metrics does.")
    var metrics = false

    @Option(help: "Serve the Socket.IO fixture mounted on an application of this framework (hummingbird or vapor) that also has its own routes (GET /health), instead of on our own listener; vapor-signed-in: on Vapor behind the application's bearer-token authentication (token alice-token is user alice, acked by the event whoami).")
    var mount: Mount?

    enum Mount: String, ExpressibleByArgument {
        case hummingbird, vapor
        /// Vapor, with Socket.IO behind the application's bearer-token authentication (`VaporMount`).
        case vaporSignedIn = "vapor-signed-in"
    }

    @Option(help: "Join a cluster through this Redis (redis://[user:pass@]host:port/db): the fixture acts cluster-wide.")
    var redis: String?

    @Option(name: .customLong("redis-sharded"), help: "Join a cluster through a Redis Cluster's sharded Pub/Sub (redis://host:port of any one node).")
    var redisSharded: String?

    @Option(name: .customLong("redis-streams"), help: "Join a cluster through Redis Streams (redis://host:port/db), like Node.js's @socket.io/redis-streams-adapter.")
    var redisStreams: String?

    @Option(name: .customLong("redis-emit"), help: "With --redis: publish one emitter operation (JSON, see RedisEmitter.run(script:)) and exit.")
    var redisEmit: String?

    @Flag(name: .customLong("admin-ui"), help: "Instrument the server for the Socket.IO Admin UI at /admin (development mode, no authentication); CORS for any origin with credentials.")
    var adminUI = false

    @Option(name: .customLong("admin-ui-auth"), help: "Instrument for the Admin UI with basic authentication: USER:BCRYPT_HASH (implies --admin-ui).")
    var adminUIAuth: String?

    @Flag(name: .customLong("admin-ui-readonly"), help: "With --admin-ui: the page may not emit, join, leave or disconnect.")
    var adminUIReadonly = false

    @Flag(name: .customLong("admin-ui-production"), help: "With --admin-ui: production mode (statistics only).")
    var adminUIProduction = false

    @Option(name: .customLong("server-id"), help: "With --admin-ui: this node's serverId (the host name by default).")
    var serverId: String?

    @Option(name: .customLong("bcrypt-hash"), help: "Print a bcrypt hash ($2b$, cost 10) of this password, for --admin-ui-auth, and exit.")
    var bcryptHash: String?

    /// Whether the Admin UI is on.
    var adminUIEnabled: Bool { adminUI || adminUIAuth != nil }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = quiet ? .warning : .info
            // LOG_LEVEL=debug|trace|... overrides, for chasing a failure
            if let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) {
                handler.logLevel = level
            }
            return handler
        }
        if let bcryptHash {
            print(BCrypt.hash(bcryptHash, cost: 10))
            return
        }
        let registry = PrometheusCollectorRegistry()
        if metrics {
            // before the server exists: its instruments are created from the bootstrapped factory
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        }
        if let redisEmit, let redis {
            let client = RedisClient(configuration: try RedisConfiguration(url: redis))
            try await client.waitUntilConnected()
            try await RedisEmitter(client: client).run(script: try JSONValue(parsing: redisEmit))
            await client.shutdown()
            return
        }
        let redisAdapter = try redis.map { try RedisAdapterFactory(url: $0) }
        var makeAdapter: @Sendable (Namespace) -> Adapter = { InMemoryAdapter(namespace: $0) }
        if let redisAdapter { makeAdapter = redisAdapter.adapter }
        let shardedAdapter = try redisSharded.map { try RedisShardedAdapterFactory(clusterURL: $0) }
        if let shardedAdapter { makeAdapter = shardedAdapter.adapter }
        let streamsAdapter = try redisStreams.map { try RedisStreamsAdapterFactory(url: $0) }
        if let streamsAdapter { makeAdapter = streamsAdapter.adapter }
        if webSocketEcho {
            try await runWebSocketEchoServer(host: host, port: port)
            return
        }
        var configuration = EngineServerConfiguration(
            path: engine ? "/engine.io/" : "/socket.io/",
            pingInterval: .milliseconds(pingInterval),
            pingTimeout: .milliseconds(pingTimeout),
            maxHttpBufferSize: 1_000_000,
            cors: CORSConfiguration(origin: .any, credentials: adminUIEnabled)
        )
        configuration.allowUpgrades = true
        configuration.maxBufferedBytes = maxBufferedBytes
        configuration.bindSessionToAddress = bindSessionToAddress
        if perMessageDeflate { configuration.perMessageDeflate = PerMessageDeflateConfiguration() }
        let engineServer: EngineServer
        var application: HTTPRequestHandler? = nil
        var mountedServer: SocketIO?
        if engine {
            engineServer = EngineServer(configuration: configuration, logger: Logger(label: "engine.io"))
            engineServer.onConnection { socket in socket.delegate = EngineEchoFixture() }
        } else {
            let io = SocketIO(
                configuration: SocketIOServerConfiguration(
                    engine: configuration,
                    connectTimeout: .milliseconds(connectTimeout),
                    maxDynamicNamespaces: maxDynamicNamespaces,
                    adapter: makeAdapter,
                    connectionStateRecovery: connectionStateRecovery.map {
                        ConnectionStateRecovery(maxDisconnectionDuration: .milliseconds($0), maxBufferedBytes: recoveryMaxBytes)
                    },
                    flowControl: flowHighWaterMark > 0
                        ? FlowControl(highWaterMark: flowHighWaterMark, stallTimeout: .milliseconds(flowStallTimeout)) : nil
                ),
                logger: Logger(label: "socket.io")
            )
            if bench {
                BenchFixture.install(on: io)
            } else {
                try SocketIOFixture.install(on: io, tokenAdminNamespace: !adminUIEnabled)
            }
            if adminUIEnabled {
                let sessions = redisAdapter.map { RedisAdminSessionStore(sharing: $0) }
                    ?? shardedAdapter.flatMap { RedisAdminSessionStore(sharing: $0) }
                    ?? streamsAdapter.flatMap { RedisAdminSessionStore(sharing: $0) }
                try self.instrumentAdminUI(io, sessions: sessions)
            }
            try await redisAdapter?.waitUntilConnected()
            try await shardedAdapter?.waitUntilReady()
            try await streamsAdapter?.waitUntilReady()
            engineServer = io.engine
            let serveMetrics = metrics
            application = io.httpHandler { request in
                guard serveMetrics, request.path == "/metrics" else { return .notFound }
                var body = ByteBuffer()
                body.writeBytes(registry.emitToBuffer())
                return HTTPServerResponse(status: .ok, headerFields: [.contentType: "text/plain; version=0.0.4"], body: body)
            }
            mountedServer = io
        }
        var tls: TLSConfiguration?
        if let tlsCert, let tlsKey {
            tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(tlsCert).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: tlsKey, format: .pem))
            )
        }
        if let mount {
            guard let io = mountedServer else { throw ValidationError("--mount serves the Socket.IO fixture: not with --engine") }
            switch mount {
            case .hummingbird: try await HummingbirdMount.run(io: io, host: host, port: port, tls: tls)
            case .vapor: try await VaporMount.run(io: io, host: host, port: port, tls: tls)
            case .vaporSignedIn: try await VaporMount.run(io: io, host: host, port: port, tls: tls, signedIn: true)
            }
            return
        }
        let server = HTTPServer(
            configuration: .init(host: host, port: port, tls: tls, idleTimeout: .milliseconds(idleTimeout)),
            engine: engineServer,
            application: application
        )
        // The server binds when the service group runs it. SIGTERM / SIGINT: graceful shutdown (clients get
        // a proper close), then exit 0.
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
                let address = try await server.localAddress
                FileHandle.standardOutput.write(Data("listening on \(address)\n".utf8))
            }
        }
    }

    /// `--admin-ui` / `--admin-ui-auth`: the official Admin UI's namespace (sessions in the cluster's Redis, if any).
    func instrumentAdminUI(_ io: SocketIO, sessions: RedisAdminSessionStore?) throws {
        let auth = try adminUIAuth.map { try AdminUIOptions.Authentication(htpasswdEntry: $0) } ?? .none
        var options = AdminUIOptions(auth: auth, readonly: adminUIReadonly, serverId: serverId, mode: adminUIProduction ? .production : .development)
        if let sessions { options.store = sessions }
        try AdminUI.instrument(io, options)
    }
}
