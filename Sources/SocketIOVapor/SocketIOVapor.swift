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
}

/// Answers the requests under the Socket.IO path and the browser client; passes every other request on.
/// Added by `Application.mount(_:)`.
public struct SocketIOMiddleware: AsyncMiddleware {
    let io: SocketIO

    /// A middleware serving `io`.
    public init(io: SocketIO) {
        self.io = io
    }

    /// Serves the request when it is for Socket.IO, or hands it to `next`.
    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let path = request.url.path
        if path == self.io.clientScriptPath {
            return try await self.serveLocal(request)
        }
        let engine = self.io.engine
        guard engine.configuration.matches(path: path) else {
            return try await next.respond(to: request)
        }
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
            isSecure: request.application.http.server.configuration.tlsConfiguration != nil
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
