import EngineIOCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOWebSocket

// Serving Engine.IO from another HTTP server (Hummingbird, Vapor, ...): the same code answers requests
// under the engine's path whether they arrive through our `HTTPServer` or through a framework.
//
// Two seams, for the two ways a framework lets us in:
// - a framework that lets us add a channel handler to each connection's HTTP/1.1 pipeline gets
//   ``EngineMount/addHandler(to:engine:localPaths:localHandler:handoff:logger:)``: requests under the path are
//   answered there, everything else goes on to the framework's handlers untouched;
// - a framework that only hands us complete requests (a middleware) calls
//   ``EngineServer/respond(to:on:)``; a WebSocket answer is then completed with the framework's own upgrade
//   hook, through ``EngineWebSocketUpgrade``.
// Either way the WebSocket connection is served by our handlers (permessage-deflate, limits, pre-framed
// broadcast writes), not by the framework's WebSocket stack.

/// Adds Engine.IO to the HTTP/1.1 pipelines of another server.
public enum EngineMount {
    /// Adds a handler that serves Engine.IO (and the requests to `localPaths`, with `localHandler`) on a
    /// connection whose pipeline another server built; every other request, and every other event, goes on
    /// to the handlers after it unchanged.
    ///
    /// The pipeline must contain NIO's `HTTPResponseEncoder` and `ByteToMessageHandler<HTTPRequestDecoder>`;
    /// the handler is added right after the decoder. Call it on the channel's event loop, before the first
    /// read (in the framework's channel initializer). TLS is detected from a `NIOSSLServerHandler` in the
    /// pipeline. On a WebSocket upgrade under the path the HTTP encoder and decoder are removed, our
    /// WebSocket handlers take their place, and the framework's handlers stay behind a barrier that lets
    /// only the end of the connection through. When the server quiesces (graceful shutdown), the sessions
    /// of the connection get a proper close (reason `server shutting down`).
    ///
    /// With a `handoff`, the framework's request-serving part is added only before the connection's first
    /// request for the framework, and a connection that becomes a WebSocket before one drops the
    /// framework's handlers altogether (see ``EngineMountHandoff``).
    public static func addHandler(
        to pipeline: ChannelPipeline.SynchronousOperations,
        engine: EngineServer,
        localPaths: Set<String> = [],
        localHandler: HTTPRequestHandler? = nil,
        handoff: EngineMountHandoff? = nil,
        logger: Logger
    ) throws {
        let encoder = try pipeline.handler(type: HTTPResponseEncoder.self)
        let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
        let handler = HTTPConnectionHandler(
            engine: engine,
            application: localHandler,
            httpHandlers: [encoder, decoder],
            isSecure: pipeline.isSecure,
            maxRequestBodySize: engine.configuration.maxHttpBufferSize,
            logger: logger,
            mountedLocalPaths: localPaths,
            handoff: handoff
        )
        try pipeline.addHandler(handler, position: .after(decoder))
    }

    /// How many reads our own listener's connections make per wake-up (NIO's default): a framework that
    /// reads less at a time (Vapor reads once) makes a busy WebSocket go back to the selector for each
    /// message.
    public static var maxMessagesPerRead: UInt { 4 }

    /// The read buffer allocator of our own listener's connections (`HTTPServer.Configuration`'s
    /// default): a 512-byte first buffer that NIO's adaptive allocator grows for large messages, instead
    /// of NIO's 2 KiB one. Every connection keeps its read buffers while idle, so a framework whose
    /// connections carry Socket.IO should use it too.
    public static var readBufferAllocator: AdaptiveRecvByteBufferAllocator {
        HTTPServer.readBufferAllocator(initialSize: HTTPServer.Configuration().initialReadBufferSize)
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Whether the connection is TLS (a TLS server handler is in the pipeline).
    var isSecure: Bool {
        (try? self.handler(type: NIOSSLServerHandler.self)) != nil
    }
}

/// A complete HTTP request under the engine's path, as a framework received it.
public struct EngineMountRequest: Sendable {
    /// The request head (method, target, headers).
    public var head: HTTPRequestHead
    /// The whole body; nil when it was over the engine's `maxHttpBufferSize` and the framework stopped
    /// reading it (answered 413, and the session ends).
    public var body: ByteBuffer?
    /// The client's address.
    public var remoteAddress: SocketAddress?
    /// Whether the connection is TLS.
    public var isSecure: Bool
    /// What the application's middleware made of the request (its authenticated user): a handshake passes
    /// it on to the session (``EngineHandshakeRequest/user``).
    public var user: (any Sendable)?

    /// Creates a request.
    public init(head: HTTPRequestHead, body: ByteBuffer?, remoteAddress: SocketAddress?, isSecure: Bool, user: (any Sendable)? = nil) {
        self.head = head
        self.body = body
        self.remoteAddress = remoteAddress
        self.isSecure = isSecure
        self.user = user
    }
}

/// A complete HTTP response to send for an Engine.IO request (CORS headers and `Content-Length` included).
public struct EngineMountResponse: Sendable {
    /// The status.
    public var status: HTTPResponseStatus
    /// The headers.
    public var headers: HTTPHeaders
    /// The body.
    public var body: ByteBuffer
}

/// What to do with a request under the engine's path.
public enum EngineMountAnswer: Sendable {
    /// Send this response.
    case response(EngineMountResponse)
    /// Switch the connection to WebSocket: answer `101 Switching Protocols` with the headers of
    /// ``EngineWebSocketUpgrade/start(on:)`` and hand the connection over to it.
    case webSocket(EngineWebSocketUpgrade)
}

extension EngineServer {
    /// Answers a request under the engine's path: a CORS preflight, a long-polling handshake, GET or POST,
    /// a refused request, or a WebSocket handshake or upgrade to complete with the framework's upgrade hook.
    /// The future completes on `eventLoop` (the connection's).
    public func respond(to request: EngineMountRequest, on eventLoop: EventLoop) -> EventLoopFuture<EngineMountAnswer> {
        let head = request.head
        let origin = head.headers.first(name: "Origin")
        let respond: @Sendable (EngineHTTPAnswer) -> EngineMountAnswer = { answer in
            .response(self.finish(answer, requestOrigin: origin))
        }
        switch self.route(head) {
        case .preflight(let headers):
            return eventLoop.makeSucceededFuture(.response(EngineMountResponse(status: .noContent, headers: headers, body: ByteBuffer())))
        case .refused(let code, let isUpgrade):
            var response = self.finish(.error(code), requestOrigin: origin)
            if isUpgrade { response.headers.replaceOrAdd(name: "Connection", value: "close") }
            return eventLoop.makeSucceededFuture(.response(response))
        case .request(.pollingHandshake):
            var handshake = EngineHandshakeRequest(head, remoteAddress: request.remoteAddress, isSecure: request.isSecure, transport: .polling)
            handshake.user = request.user
            return self.answerPollingHandshake(handshake, on: eventLoop).map(respond)
        case .request(.poll(let sid)):
            let promise = eventLoop.makePromise(of: EngineHTTPAnswer.self)
            _ = self.poll(sid: sid, from: request.remoteAddress, promise: promise)
            return promise.futureResult.map(respond)
        case .request(.post(let sid)):
            guard let body = request.body, body.readableBytes <= self.configuration.maxHttpBufferSize else {
                if let session = self.socket(id: sid) { session.eventLoop.execute { session.postTooLarge() } }
                return eventLoop.makeSucceededFuture(respond(.payloadTooLarge))
            }
            guard let session = self.socket(id: sid, from: request.remoteAddress) else {
                return eventLoop.makeSucceededFuture(respond(.error(.unknownSessionID)))
            }
            return session.eventLoop.submit { session.beginPost() }.hop(to: eventLoop).flatMap { accepted in
                guard accepted else { return eventLoop.makeSucceededFuture(respond(.error(.badRequest))) }
                return self.post(sid: sid, from: request.remoteAddress, body: body, on: eventLoop).map(respond)
            }
        case .request(let webSocketRequest):
            return self.webSocketDecision(
                head,
                request: webSocketRequest,
                remoteAddress: request.remoteAddress,
                isSecure: request.isSecure,
                user: request.user,
                on: eventLoop
            )
                .map { decision in
                    switch decision {
                    case .upgrade(let upgrade):
                        return .webSocket(upgrade)
                    case .refuse(let answer):
                        var response = self.finish(answer, requestOrigin: origin)
                        response.headers.replaceOrAdd(name: "Connection", value: "close")
                        return .response(response)
                    }
                }
        }
    }

    /// How a request under the path is served.
    enum Route {
        /// A CORS preflight, answered 204 with these headers.
        case preflight(HTTPHeaders)
        /// A request the engine refuses at once.
        case refused(EngineErrorCode, isUpgrade: Bool)
        /// A request to serve.
        case request(EngineRequest)
    }

    /// Classifies a request under the path.
    func route(_ head: HTTPRequestHead) -> Route {
        if head.method == .OPTIONS, let cors = self.configuration.cors {
            return .preflight(cors.preflightHeaders(request: head.headers))
        }
        let isUpgrade = WebSocketHandshake.isUpgradeRequest(head)
        let classified = EngineRequest.classify(
            method: head.method.rawValue,
            query: RequestTarget(head.uri).query,
            isWebSocketUpgrade: isUpgrade,
            transports: self.configuration.transports
        )
        switch classified {
        case .failure(let code):
            self.logger.debug("engine.io request refused", metadata: ["eio.code": "\(code)", "http.uri": "\(head.uri)"])
            return .refused(code, isUpgrade: isUpgrade)
        case .success(let request):
            return .request(request)
        }
    }

    /// The response for `answer`: metrics counted, CORS headers and `Content-Length` added.
    func finish(_ answer: EngineHTTPAnswer, requestOrigin: String?) -> EngineMountResponse {
        switch answer.status.code {
        case 400: EngineMetrics.error("http_400")
        case 403: EngineMetrics.error("http_403")
        case 413: EngineMetrics.error("http_413")
        default: break
        }
        var headers = answer.headers
        if let cors = self.configuration.cors {
            cors.addResponseHeaders(to: &headers, requestOrigin: requestOrigin)
        }
        headers.replaceOrAdd(name: "Content-Length", value: String(answer.body.readableBytes))
        return EngineMountResponse(status: answer.status, headers: headers, body: answer.body)
    }

    /// A long-polling handshake, after the `allowRequest` hook.
    func answerPollingHandshake(_ handshake: EngineHandshakeRequest, on eventLoop: EventLoop) -> EventLoopFuture<EngineHTTPAnswer> {
        self.authorize(handshake, on: eventLoop).map { decision in
            switch decision {
            case .allow: return self.pollingHandshake(handshake, on: eventLoop)
            case .refuse(let message): return .error(EngineErrorCode(code: 4, message: message))
            }
        }
    }

    /// What to do with a WebSocket request under the path.
    enum WebSocketDecision: Sendable {
        case upgrade(EngineWebSocketUpgrade)
        case refuse(EngineHTTPAnswer)
    }

    /// Decides on a WebSocket handshake (`request` is `.webSocketHandshake`) or the upgrade of a polling
    /// session (`.upgrade`): the origin policy, the handshake's headers, the session, `allowRequest`.
    func webSocketDecision(
        _ head: HTTPRequestHead,
        request: EngineRequest,
        remoteAddress: SocketAddress?,
        isSecure: Bool,
        user: (any Sendable)? = nil,
        on eventLoop: EventLoop
    ) -> EventLoopFuture<WebSocketDecision> {
        guard self.allowsWebSocketOrigin(head.headers) else {
            self.logger.info("engine.io WebSocket refused: origin not allowed", metadata: ["http.origin": "\(head.headers.first(name: "Origin") ?? "")"])
            return eventLoop.makeSucceededFuture(.refuse(.error(.forbidden)))
        }
        let accepted: WebSocketHandshake.Accepted
        do {
            accepted = try WebSocketHandshake.accept(head, configuration: self.configuration.webSocket)
        } catch {
            self.logger.debug("bad WebSocket handshake", metadata: ["ws.error": "\(error)"])
            return eventLoop.makeSucceededFuture(.refuse(.error(.badRequest)))
        }
        if case .upgrade(let sid) = request {
            guard let session = self.socket(id: sid, from: remoteAddress) else {
                return eventLoop.makeSucceededFuture(.refuse(.error(.unknownSessionID)))
            }
            return session.eventLoop.submit { session.canUpgrade() }.hop(to: eventLoop).map { allowed in
                .upgrade(EngineWebSocketUpgrade(engine: self, accepted: accepted, kind: .probe(session, allowed: allowed)))
            }
        }
        var request = EngineHandshakeRequest(head, remoteAddress: remoteAddress, isSecure: isSecure, transport: .websocket)
        request.user = user
        let handshake = request
        return self.authorize(handshake, on: eventLoop).map { decision in
            if case .refuse(let message) = decision { return .refuse(.error(EngineErrorCode(code: 4, message: message))) }
            return .upgrade(EngineWebSocketUpgrade(engine: self, accepted: accepted, kind: .open(handshake)))
        }
    }
}

extension EngineHandshakeRequest {
    /// The handshake of a request with `head`, arriving now.
    init(_ head: HTTPRequestHead, remoteAddress: SocketAddress?, isSecure: Bool, transport: EngineTransport) {
        self.init(
            uri: head.uri,
            target: RequestTarget(head.uri),
            // A copy sized to fit: the decoder's header array reserves room for many more headers, and the
            // session keeps these for its whole life (`socket.handshake.headers`).
            httpHeaders: HTTPHeaders(head.headers.map { ($0.name, $0.value) }),
            remoteAddress: remoteAddress,
            isSecure: isSecure,
            time: .now(),
            transport: transport
        )
    }
}

/// An accepted Engine.IO WebSocket request (a WebSocket handshake, or the upgrade of a polling session),
/// to complete on the connection it arrived on.
public struct EngineWebSocketUpgrade: Sendable {
    enum Kind: Sendable {
        /// A new session over WebSocket.
        case open(EngineHandshakeRequest)
        /// A probe for a polling session; when not `allowed`, the WebSocket is closed once open.
        case probe(EngineSocket, allowed: Bool)
    }

    let engine: EngineServer
    let accepted: WebSocketHandshake.Accepted
    let kind: Kind

    /// Starts taking over `channel`, on its event loop, right before the `101 Switching Protocols` response
    /// is written: a WebSocket handshake opens its session here.
    public func start(on channel: Channel) -> EngineWebSocketConnection {
        channel.eventLoop.preconditionInEventLoop()
        let handler = EngineWebSocketHandler()
        var accepted = self.accepted
        switch self.kind {
        case .open(let handshake):
            let transport = WebSocketTransport(channel: channel, handler: handler)
            let (session, open) = self.engine.openSession(handshake: handshake, on: channel.eventLoop, webSocket: transport)
            handler.session = session
            if let cookie = self.engine.configuration.cookie {
                accepted.headers.add(name: "Set-Cookie", value: cookie.headerValue(sid: session.id))
            }
            handler.write([open], close: false)
        case .probe(let session, let allowed):
            if allowed { handler.session = session }
        }
        return EngineWebSocketConnection(upgrade: self, accepted: accepted, handler: handler, channel: channel)
    }
}

/// An Engine.IO WebSocket taking over a connection: add its handlers once the HTTP handlers are gone (or
/// leaving), then call ``upgradeCompleted()``. Confined to the connection's event loop.
public final class EngineWebSocketConnection {
    let upgrade: EngineWebSocketUpgrade
    /// The handshake as accepted, with its `101` headers.
    let accepted: WebSocketHandshake.Accepted
    let handler: EngineWebSocketHandler
    let channel: Channel

    init(upgrade: EngineWebSocketUpgrade, accepted: WebSocketHandshake.Accepted, handler: EngineWebSocketHandler, channel: Channel) {
        self.upgrade = upgrade
        self.accepted = accepted
        self.handler = handler
        self.channel = channel
    }

    /// The headers of the `101 Switching Protocols` response (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-Accept`, the negotiated extensions, the session cookie when configured).
    public var responseHeaders: HTTPHeaders { self.accepted.headers }

    /// Appends the WebSocket handlers (messages with framing, permessage-deflate and limits, then the
    /// session's handler) at the end of `pipeline`, for a framework whose upgrade hook has
    /// already removed its HTTP handlers.
    public func addHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws {
        let configuration = self.upgrade.engine.configuration.webSocket
        let messages = WebSocketMessageHandler(configuration: configuration, permessageDeflate: self.accepted.permessageDeflate, logger: nil)
        try pipeline.addHandler(messages)
        try self.addEngineHandlers(to: pipeline, barrier: false)
    }

    /// Adds the session's handler after the pipeline's ``WebSocketMessageHandler`` and, when `barrier` is
    /// set, a barrier that keeps WebSocket events from the handlers after it.
    func addEngineHandlers(to pipeline: ChannelPipeline.SynchronousOperations, barrier: Bool) throws {
        let messages = try pipeline.handler(type: WebSocketMessageHandler.self)
        try pipeline.addHandler(self.handler, position: .after(messages))
        if barrier { try pipeline.addHandler(MountBarrier(), position: .after(self.handler)) }
    }

    /// Call once the HTTP handlers are gone: the session's first packets go out, and an upgrade probe
    /// joins its session (or, when the session may not upgrade, the WebSocket closes).
    public func upgradeCompleted() {
        self.handler.upgradeCompleted()
        guard case .probe(let session, let allowed) = self.upgrade.kind else { return }
        guard allowed else {
            // Like Node.js: finish the WebSocket handshake, then close it (the session keeps its transport).
            self.handler.write([], close: true)
            return
        }
        let transport = WebSocketTransport(channel: self.channel, handler: self.handler)
        session.eventLoop.execute { session.attachProbe(transport) }
    }
}

@available(*, unavailable)
extension EngineWebSocketConnection: Sendable {}

/// Sits between a mounted connection's WebSocket handlers and the framework's HTTP handlers that stay in
/// the pipeline: only the end of the connection reaches them.
final class MountBarrier: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Never

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
    func channelReadComplete(context: ChannelHandlerContext) {}
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {}
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
    func channelWritabilityChanged(context: ChannelHandlerContext) {}
}
