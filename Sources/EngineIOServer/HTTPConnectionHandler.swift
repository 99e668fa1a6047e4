import EngineIOCore
import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOWebSocket

/// Serves one HTTP/1.1 connection: Engine.IO polling requests and WebSocket upgrades under the engine's
/// path, everything else through the application's handler. Requests are served one at a time.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Waiting for a request head.
        case idle
        /// Reading the body of a request that is answered once it is complete.
        case readingBody(HTTPRequestHead, Route, ByteBuffer)
        /// The body is over its limit: the rest is dropped and the connection closes after the answer.
        case discardingBody
        /// The request is complete; its answer is being prepared.
        case answering
        /// The connection became a WebSocket.
        case upgraded
    }

    private enum Route {
        case engine(EngineRequest)
        case application
    }

    private let engine: EngineServer?
    private let application: HTTPRequestHandler?
    private let httpHandlers: [RemovableChannelHandler]
    private let isSecure: Bool
    private let maxRequestBodySize: Int
    private let logger: Logger
    private var state: State = .idle
    private var keepAlive = true
    /// The pending polling GET of this connection, to tell its session when the connection drops.
    private var pendingPoll: (EngineSocket, EventLoopPromise<EngineHTTPAnswer>)?
    /// The session of a POST whose body is being read.
    private var activePost: EngineSocket?

    init(
        engine: EngineServer?,
        application: HTTPRequestHandler?,
        httpHandlers: [RemovableChannelHandler],
        isSecure: Bool,
        maxRequestBodySize: Int,
        logger: Logger
    ) {
        self.engine = engine
        self.application = application
        self.httpHandlers = httpHandlers
        self.isSecure = isSecure
        self.maxRequestBodySize = maxRequestBodySize
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.receivedHead(head, context: context)
        case .body(var chunk):
            guard case .readingBody(let head, let route, var body) = self.state else { return }
            let limit = self.bodyLimit(route)
            guard body.readableBytes + chunk.readableBytes <= limit else {
                self.state = .discardingBody
                self.bodyTooLarge(route, context: context)
                return
            }
            self.state = .answering
            body.writeBuffer(&chunk)
            self.state = .readingBody(head, route, body)
        case .end:
            switch self.state {
            case .readingBody(let head, let route, let body):
                self.state = .answering
                self.dispatch(head, route: route, body: body, context: context)
            case .discardingBody:
                self.state = .answering
            default:
                break
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let session = self.activePost {
            self.activePost = nil
            session.eventLoop.execute { session.postAborted() }
        }
        if let (session, promise) = self.pendingPoll {
            self.pendingPoll = nil
            session.eventLoop.execute { session.pollAborted(promise) }
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            switch self.state {
            case .idle, .readingBody, .discardingBody:
                self.logger.debug("HTTP connection closed: idle or stalled request")
                context.close(promise: nil)
            case .answering, .upgraded:
                break  // a long-polling GET waits for data; the engine's heartbeat watches it
            }
            return
        }
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Shutting down: finish the request in progress, if any, then close.
        self.keepAlive = false
        if case .idle = self.state { context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let parserError = error as? HTTPParserError {
            self.logger.info("bad HTTP request, connection closed", metadata: ["http.error": "\(error)"])
            if case .idle = self.state {
                self.keepAlive = false
                self.state = .answering
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "0")
                headers.add(name: "Connection", value: "close")
                let status: HTTPResponseStatus = parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
                self.write(status: status, headers: headers, body: ByteBuffer(), context: context)
                return
            }
        }
        context.close(promise: nil)
    }

    private func bodyLimit(_ route: Route) -> Int {
        switch route {
        case .engine: return self.engine?.configuration.maxHttpBufferSize ?? 0
        case .application: return self.maxRequestBodySize
        }
    }

    // MARK: Requests

    private func receivedHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard case .idle = self.state else {
            // A pipelined request while another is answered: not supported, end the connection.
            self.state = .answering
            context.close(promise: nil)
            return
        }
        self.keepAlive = head.isKeepAlive
        let target = RequestTarget(head.uri)
        guard let engine = self.engine, engine.configuration.matches(path: target.path) else {
            self.state = .readingBody(head, .application, ByteBuffer())
            return
        }
        if head.method == .OPTIONS, let cors = engine.configuration.cors {
            self.state = .discardingBody
            self.write(status: .noContent, headers: cors.preflightHeaders(request: head.headers), body: ByteBuffer(), context: context)
            return
        }
        let isUpgrade = WebSocketHandshake.isUpgradeRequest(head)
        let classified = EngineRequest.classify(
            method: head.method.rawValue,
            query: target.query,
            isWebSocketUpgrade: isUpgrade,
            transports: engine.configuration.transports
        )
        switch classified {
        case .failure(let code):
            self.logger.debug("engine.io request refused", metadata: ["eio.code": "\(code)", "http.uri": "\(head.uri)"])
            self.state = .discardingBody
            if isUpgrade { self.keepAlive = false }
            self.answer(.error(code), head: head, context: context)
        case .success(let request):
            // Answered once the request's end has been read (for an upgrade, so that no HTTP part
            // reaches the WebSocket handlers).
            self.state = .readingBody(head, .engine(request), ByteBuffer())
            if case .post(let sid) = request {
                self.beginPost(sid: sid, head: head, engine: engine, context: context)
            }
        }
    }

    /// Tells the session a POST started (before its body arrives): a second concurrent POST is refused
    /// with 400 and closes the session.
    private func beginPost(sid: String, head: HTTPRequestHead, engine: EngineServer, context: ChannelHandlerContext) {
        guard let session = engine.socket(id: sid, from: context.channel.remoteAddress) else { return }
        self.activePost = session
        session.eventLoop.submit { session.beginPost() }.hop(to: context.eventLoop).assumeIsolated().whenSuccess { accepted in
            guard !accepted else { return }
            self.activePost = nil
            if case .readingBody = self.state {
                self.state = .discardingBody
                self.keepAlive = false
                self.answer(.error(.badRequest), head: head, context: context)
            }
        }
    }

    private func bodyTooLarge(_ route: Route, context: ChannelHandlerContext) {
        self.keepAlive = false
        switch route {
        case .engine(.post(let sid)):
            if let session = self.engine?.socket(id: sid) {
                session.eventLoop.execute { session.postTooLarge() }
            }
            self.answer(.payloadTooLarge, head: nil, context: context)
        default:
            self.write(status: .payloadTooLarge, headers: ["Content-Length": "0"], body: ByteBuffer(), context: context)
        }
    }

    private func dispatch(_ head: HTTPRequestHead, route: Route, body: ByteBuffer, context: ChannelHandlerContext) {
        guard let engine = self.engine, case .engine(let request) = route else {
            self.serveApplication(head, body: body, context: context)
            return
        }
        switch request {
        case .pollingHandshake:
            let handshake = self.handshakeRequest(head, transport: .polling, context: context)
            engine.authorize(handshake, on: context.eventLoop).assumeIsolated().whenSuccess { decision in
                switch decision {
                case .allow:
                    self.answer(engine.pollingHandshake(handshake, on: context.eventLoop), head: head, context: context)
                case .refuse(let message):
                    self.answer(.error(EngineErrorCode(code: 4, message: message)), head: head, context: context)
                }
            }
        case .poll(let sid):
            let promise = context.eventLoop.makePromise(of: EngineHTTPAnswer.self)
            if let session = engine.poll(sid: sid, from: context.channel.remoteAddress, promise: promise) {
                self.pendingPoll = (session, promise)
            }
            promise.futureResult.assumeIsolated().whenSuccess { answer in
                self.pendingPoll = nil
                self.answer(answer, head: head, context: context)
            }
        case .post(let sid):
            self.activePost = nil
            engine.post(sid: sid, from: context.channel.remoteAddress, body: body, on: context.eventLoop).assumeIsolated().whenSuccess { answer in
                self.answer(answer, head: head, context: context)
            }
        case .webSocketHandshake, .upgrade:
            self.upgrade(head, request: request, engine: engine, context: context)
        }
    }

    private func handshakeRequest(_ head: HTTPRequestHead, transport: EngineTransport, context: ChannelHandlerContext) -> EngineHandshakeRequest {
        EngineHandshakeRequest(
            uri: head.uri,
            target: RequestTarget(head.uri),
            // A copy sized to fit: the decoder's header array reserves room for many more headers, and the
            // session keeps these for its whole life (`socket.handshake.headers`).
            headers: HTTPHeaders(head.headers.map { ($0.name, $0.value) }),
            remoteAddress: context.channel.remoteAddress,
            isSecure: self.isSecure,
            time: .now(),
            transport: transport
        )
    }

    private func serveApplication(_ head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        guard let application = self.application else {
            self.write(response: .notFound, context: context)
            return
        }
        let request = HTTPRequest(
            method: head.method,
            uri: head.uri,
            target: RequestTarget(head.uri),
            headers: head.headers,
            body: body,
            remoteAddress: context.channel.remoteAddress
        )
        context.eventLoop.makeFutureWithTask { await application(request) }.assumeIsolated().whenSuccess { response in
            self.write(response: response, context: context)
        }
    }

    // MARK: WebSocket

    private func upgrade(_ head: HTTPRequestHead, request: EngineRequest, engine: EngineServer, context: ChannelHandlerContext) {
        // A refused upgrade ends the connection, like Node's `abortUpgrade`: WebSocket clients only
        // report the failure once the socket closes.
        self.keepAlive = false
        guard engine.allowsWebSocketOrigin(head.headers) else {
            self.logger.info("engine.io WebSocket refused: origin not allowed", metadata: ["http.origin": "\(head.headers.first(name: "Origin") ?? "")"])
            self.answer(.error(.forbidden), head: head, context: context)
            return
        }
        let accepted: WebSocketHandshake.Accepted
        do {
            accepted = try WebSocketHandshake.accept(head, configuration: engine.configuration.webSocket)
        } catch {
            self.logger.debug("bad WebSocket handshake", metadata: ["ws.error": "\(error)"])
            self.answer(.error(.badRequest), head: head, context: context)
            return
        }
        switch request {
        case .upgrade(let sid):
            guard let session = engine.socket(id: sid, from: context.channel.remoteAddress) else {
                self.answer(.error(.unknownSessionID), head: head, context: context)
                return
            }
            session.eventLoop.submit { session.canUpgrade() }.hop(to: context.eventLoop).assumeIsolated().whenSuccess { allowed in
                guard allowed else {
                    // Like Node.js: finish the WebSocket handshake, then close it (the session keeps
                    // its current transport).
                    let handler = EngineWebSocketHandler()
                    self.performUpgrade(accepted, engine: engine, handler: handler, context: context) {
                        handler.write([], close: true)
                    }
                    return
                }
                let handler = EngineWebSocketHandler()
                handler.session = session
                let transport = WebSocketTransport(channel: context.channel, handler: handler)
                self.performUpgrade(accepted, engine: engine, handler: handler, context: context) {
                    session.eventLoop.execute { session.attachProbe(transport) }
                }
            }
        default:
            let handshake = self.handshakeRequest(head, transport: .websocket, context: context)
            engine.authorize(handshake, on: context.eventLoop).assumeIsolated().whenSuccess { decision in
                if case .refuse(let message) = decision {
                    self.answer(.error(EngineErrorCode(code: 4, message: message)), head: head, context: context)
                    return
                }
                var accepted = accepted
                let handler = EngineWebSocketHandler()
                let transport = WebSocketTransport(channel: context.channel, handler: handler)
                let (session, open) = engine.openSession(handshake: handshake, on: context.eventLoop, webSocket: transport)
                handler.session = session
                if let cookie = engine.configuration.cookie {
                    accepted.headers.add(name: "Set-Cookie", value: cookie.headerValue(sid: session.id))
                }
                handler.write([open], close: false)
                self.performUpgrade(accepted, engine: engine, handler: handler, context: context) {}
            }
        }
    }

    private func performUpgrade(
        _ accepted: WebSocketHandshake.Accepted,
        engine: EngineServer,
        handler: EngineWebSocketHandler,
        context: ChannelHandlerContext,
        then: @escaping () -> Void
    ) {
        self.state = .upgraded
        let loopBoundHandler = NIOLoopBound(handler, eventLoop: context.eventLoop)
        WebSocketUpgrade.upgrade(
            context: context,
            accepted: accepted,
            configuration: engine.configuration.webSocket,
            removing: self.httpHandlers + [self]
        ) { pipeline in
            // Right before the frame encoder: below it only the socket (and TLS, when on) remain.
            let frameEncoder = try pipeline.handler(type: WebSocketFrameEncoder.self)
            try pipeline.addHandler(loopBoundHandler.value.rawWriter, position: .before(frameEncoder))
            try pipeline.addHandler(loopBoundHandler.value)
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success:
                loopBoundHandler.value.upgradeCompleted()
                then()
            case .failure(let error):
                self.logger.debug("WebSocket upgrade failed", metadata: ["ws.error": "\(error)"])
                context.close(promise: nil)
            }
        }
    }

    // MARK: Answers

    private func answer(_ answer: EngineHTTPAnswer, head: HTTPRequestHead?, context: ChannelHandlerContext) {
        switch answer.status.code {
        case 400: EngineMetrics.error("http_400")
        case 403: EngineMetrics.error("http_403")
        case 413: EngineMetrics.error("http_413")
        default: break
        }
        var headers = answer.headers
        if let cors = self.engine?.configuration.cors {
            cors.addResponseHeaders(to: &headers, requestOrigin: head?.headers.first(name: "Origin"))
        }
        headers.replaceOrAdd(name: "Content-Length", value: String(answer.body.readableBytes))
        self.write(status: answer.status, headers: headers, body: answer.body, context: context)
    }

    private func write(response: HTTPResponse, context: ChannelHandlerContext) {
        var headers = response.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        self.write(status: response.status, headers: headers, body: response.body, context: context)
    }

    private func write(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var headers = headers
        if !self.keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if body.readableBytes > 0 { context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let keepAlive = self.keepAlive
        let finished = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: finished)
        if keepAlive {
            // The next request may be read once the whole body of this one was (or dropped).
            if case .answering = self.state { self.state = .idle }
            if case .discardingBody = self.state { self.state = .idle }
        } else {
            finished.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
