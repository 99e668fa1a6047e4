import EngineIOServer
import NIOCore
import NIOHTTP1
import SocketIOServer
import Vapor

extension Application {
    /// Mounts Socket.IO on this application's server: requests under the Socket.IO path (`/socket.io/`) and
    /// the browser client (`/socket.io/socket.io.js`) are answered by `io` ahead of every other middleware,
    /// WebSocket upgrades there are completed by its own WebSocket handling (through Vapor's upgrade hook),
    /// and every other request, upgrades included, goes to the application's middleware and router
    /// unchanged.
    ///
    /// ```swift
    /// let io = SocketIO()
    /// app.mount(io)
    /// ```
    ///
    /// TLS comes from `http.server.configuration`, sessions live on the event loop of their connection,
    /// and the application's shutdown closes every session properly and waits for them (at most
    /// `gracePeriod`) before the server stops.
    public func mount(_ io: SocketIO, gracePeriod: Duration = .seconds(10)) {
        self.middleware.use(SocketIOMiddleware(io: io), at: .beginning)
        self.lifecycle.use(SocketIOLifecycle(io: io, gracePeriod: gracePeriod))
    }

    /// Mounts Socket.IO with its handshakes behind the application's middleware: a request that opens a
    /// session (a GET under the Socket.IO path without a session id, long-polling or WebSocket) is a route
    /// of `routes`, so the application's global middleware and the middleware of `routes` (sessions,
    /// authentication, guards) run first, and a handshake they refuse never reaches Socket.IO. `user` reads
    /// what they found (the authenticated user) from the handshake request; Socket.IO middleware and
    /// handlers read it as `socket.handshake.user`.
    ///
    /// ```swift
    /// let signedIn = app.grouped(UserAuthenticator(), User.guardMiddleware())
    /// app.mount(io, on: signedIn) { request in try request.auth.require(User.self) }
    /// io.use { socket in
    ///     guard let user = socket.handshake.user as? User else { throw ConnectionRefused("sign in first") }
    ///     ...
    /// }
    /// ```
    ///
    /// The session's later requests (its polls and posts, its upgrade to WebSocket) belong to the session
    /// its handshake opened, and are answered ahead of the middleware, as Node's socket.io does with
    /// express middleware applied to handshakes only: clients need not repeat their credentials (a
    /// python-socketio client sends its `headers` with the handshake only), and the application's
    /// middleware does not run for each message. So are CORS preflights (browsers send no credentials with
    /// them) and the browser client. Everything else is as with `mount(_:gracePeriod:)` (the WebSocket
    /// handling, TLS, the shutdown).
    public func mount(
        _ io: SocketIO,
        on routes: any RoutesBuilder,
        gracePeriod: Duration = .seconds(10),
        user: @escaping @Sendable (Request) throws -> (any Sendable)?
    ) {
        let middleware = SocketIOMiddleware(io: io, handshakesBehind: true)
        self.middleware.use(middleware, at: .beginning)
        routes.on(.GET, io.engine.configuration.path.pathComponents) { request in
            try await middleware.serve(request, user: try user(request))
        }
        self.lifecycle.use(SocketIOLifecycle(io: io, gracePeriod: gracePeriod))
    }
}

/// Answers the requests under the Socket.IO path and the browser client; passes every other request on.
/// Added by `Application.mount(_:gracePeriod:)`.
public struct SocketIOMiddleware: AsyncMiddleware {
    let io: SocketIO
    /// Mounted with its handshakes behind the application's middleware (they are passed on to it).
    let handshakesBehind: Bool

    /// A middleware serving `io`.
    public init(io: SocketIO) {
        self.init(io: io, handshakesBehind: false)
    }

    init(io: SocketIO, handshakesBehind: Bool) {
        self.io = io
        self.handshakesBehind = handshakesBehind
    }

    /// Serves the request when it is for Socket.IO, or hands it to `next`.
    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let path = request.url.path
        guard path == self.io.clientScriptPath || self.io.engine.configuration.matches(path: path) else {
            return try await next.respond(to: request)
        }
        if self.handshakesBehind, Self.isHandshake(request) {
            return try await next.respond(to: request)  // to the application's middleware, then its route
        }
        return try await self.serve(request, user: nil)
    }

    /// Whether the request opens a session (a GET without a session id).
    private static func isHandshake(_ request: Request) -> Bool {
        guard request.method == .GET else { return false }
        let query = request.url.query ?? ""
        return !query.split(separator: "&").contains { $0.hasPrefix("sid=") }
    }

    /// Serves a request for Socket.IO (the engine's path or the client script; anything else is a 404);
    /// a handshake's session gets `user`.
    func serve(_ request: Request, user: (any Sendable)?) async throws -> Response {
        let path = request.url.path
        if path == self.io.clientScriptPath {
            return try await self.serveLocal(request)
        }
        let engine = self.io.engine
        guard engine.configuration.matches(path: path) else { throw Abort(.notFound) }
        let limit = engine.configuration.maxHttpBufferSize
        let body: ByteBuffer?
        do {
            body = try await request.body.collect(max: limit).get() ?? ByteBuffer()
        } catch {
            body = nil
        }
        let head = HTTPRequestHead(version: request.version, method: request.method, uri: request.url.string, headers: request.headers)
        let mountRequest = EngineMountRequest(
            head: head,
            body: body,
            remoteAddress: request.remoteAddress,
            isSecure: request.application.http.server.configuration.tlsConfiguration != nil,
            user: user
        )
        switch try await engine.respond(to: mountRequest, on: request.eventLoop).get() {
        case .response(let answer):
            return Self.response(status: answer.status, headers: answer.headers, body: answer.body)
        case .webSocket(let upgrade):
            let response = Response(status: .switchingProtocols)
            response.upgrader = EngineUpgrader(upgrade: upgrade)
            return response
        }
    }

    /// The browser client, served as our own listener serves it.
    private func serveLocal(_ request: Request) async throws -> Response {
        let head = HTTPRequestHead(version: request.version, method: request.method, uri: request.url.string, headers: request.headers)
        guard let local = HTTPTypes.HTTPRequest(head, isSecure: request.application.http.server.configuration.tlsConfiguration != nil) else {
            return Response(status: .badRequest)
        }
        let answer = await self.io.httpHandler()(HTTPServerRequest(head: local, remoteAddress: request.remoteAddress))
        let responseHead = HTTPResponseHead(answer.head)
        return Self.response(status: responseHead.status, headers: responseHead.headers, body: answer.body)
    }

    private static func response(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) -> Response {
        var headers = headers
        headers.remove(name: "Content-Length")  // Vapor sets it from the body
        return Response(status: status, headers: headers, body: .init(buffer: body))
    }
}

/// Completes an Engine.IO WebSocket request with our WebSocket handlers, through Vapor's upgrade hook.
struct EngineUpgrader: Upgrader {
    let upgrade: EngineWebSocketUpgrade

    func applyUpgrade(req: Request, res: Response) -> any HTTPServerProtocolUpgrader {
        EngineProtocolUpgrader(upgrade: self.upgrade, connection: NIOLoopBoundBox(nil, eventLoop: req.eventLoop))
    }
}

/// The NIO side of `EngineUpgrader`: opens the session when the 101 answer is built, then adds our
/// WebSocket handlers once Vapor has removed its HTTP handlers.
struct EngineProtocolUpgrader: HTTPServerProtocolUpgrader, Sendable {
    let upgrade: EngineWebSocketUpgrade
    let connection: NIOLoopBoundBox<EngineWebSocketConnection?>

    var supportedProtocol: String { "websocket" }
    var requiredUpgradeHeaders: [String] { [] }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        ReadBufferInstaller.install(forServerOf: channel)
        let connection = self.upgrade.start(on: channel)
        self.connection.value = connection
        return channel.eventLoop.makeSucceededFuture(connection.responseHeaders)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        guard let connection = self.connection.value else {
            return context.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
        }
        do {
            try connection.addHandlers(to: context.pipeline.syncOperations)
            // Vapor reads one buffer per wake-up (`maxMessagesPerRead` 1); a Socket.IO WebSocket reads as on
            // our own listener, so that a busy connection does not go back to the selector for each message
            try context.channel.syncOptions?.setOption(.maxMessagesPerRead, value: EngineMount.maxMessagesPerRead)
        } catch {
            return context.eventLoop.makeFailedFuture(error)
        }
        connection.upgradeCompleted()
        return context.eventLoop.makeSucceededVoidFuture()
    }
}

/// Closes every Socket.IO session (clients are told) and waits for them when the application shuts down,
/// before Vapor stops its server.
struct SocketIOLifecycle: LifecycleHandler {
    let io: SocketIO
    let gracePeriod: Duration

    func shutdown(_ application: Application) {
        self.io.engine.closeAll(reason: .serverShuttingDown)
    }

    func shutdownAsync(_ application: Application) async {
        await self.io.drain(gracePeriod: self.gracePeriod)
    }
}
