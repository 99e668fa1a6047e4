import EngineIOCore
import Logging
import HTTPTypes
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOWebSocket

/// Serves one HTTP/1.1 connection: Engine.IO polling requests and WebSocket upgrades under the engine's
/// path, everything else through the application's handler. Requests are served one at a time.
///
/// Mounted in another server's pipeline (`mountedLocalPaths` set), it serves the engine's path and the
/// local paths only, and hands every other request, part by part, to the handlers after it.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
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
        /// Mounted: a request of the framework's is passing through until its end.
        case forwarding
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
    /// Mounted in another server's pipeline: the paths besides the engine's that this handler serves.
    private let mountedLocalPaths: Set<String>?
    /// Mounted with a handoff that has not happened yet: no request went to the framework so far.
    private var handoff: EngineMountHandoff?
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
        logger: Logger,
        mountedLocalPaths: Set<String>? = nil,
        handoff: EngineMountHandoff? = nil
    ) {
        self.mountedLocalPaths = mountedLocalPaths
        self.handoff = handoff
        self.engine = engine
        self.application = application
        self.httpHandlers = httpHandlers
        self.isSecure = isSecure
        self.maxRequestBodySize = maxRequestBodySize
        self.logger = logger
    }

    private var isMounted: Bool { self.mountedLocalPaths != nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = self.unwrapInboundIn(data)
        if case .forwarding = self.state {
            if case .end = part { self.state = .idle }
            context.fireChannelRead(data)
            return
        }
        switch part {
        case .head(let head):
            self.receivedHead(head, context: context)
            if case .forwarding = self.state { context.fireChannelRead(data) }
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

    func handlerRemoved(context: ChannelHandlerContext) {
        self.handOffWithoutRequest()
    }

    /// The connection is done with HTTP (or closed) before any request went to the framework.
    private func handOffWithoutRequest() {
        guard let handoff = self.handoff else { return }
        self.handoff = nil
        handoff.withoutRequest()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.handOffWithoutRequest()
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
        if self.isMounted {
            self.mountedEventTriggered(context: context, event: event)
            return
        }
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            switch self.state {
            case .idle, .readingBody, .discardingBody:
                self.logger.debug("HTTP connection closed: idle or stalled request")
                context.close(promise: nil)
            case .answering, .upgraded, .forwarding:
                break  // a long-polling GET waits for data; the engine's heartbeat watches it
            }
            return
        }
        guard event is ChannelShouldQuiesceEvent else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        // Shutting down: finish the request in progress, if any, then close.
        self.shutDownPendingPoll()
        if case .idle = self.state { context.close(promise: nil) }
    }

    /// Mounted: the framework's events (idle timeouts) are the framework's while none of our requests is in
    /// progress. A shutdown first closes every session (as our own listener does before it quiesces), and
    /// reaches the framework only once they are gone, so that their last polling requests are served; if one
    /// of our requests is in progress then, the connection closes after its answer (the framework, which saw
    /// no request, would close it at once).
    private func mountedEventTriggered(context: ChannelHandlerContext, event: Any) {
        if self.handoff != nil, let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            // The client is gone (the framework allows half-closed connections) and no handler of the
            // framework's serves this connection yet: close it, as our own listener does.
            context.close(promise: nil)
            return
        }
        guard event is ChannelShouldQuiesceEvent, let engine = self.engine else {
            switch self.state {
            case .idle, .forwarding, .upgraded: context.fireUserInboundEventTriggered(event)
            case .readingBody, .discardingBody, .answering: break
            }
            return
        }
        // (a waiting long-polling GET gets its session's close packet from the drain; a request in progress
        // keeps its connection alive meanwhile, as on our own listener, which quiesces after draining)
        engine.drainOnce(on: context.eventLoop).assumeIsolated().whenComplete { _ in
            switch self.state {
            case .idle, .forwarding: context.fireUserInboundEventTriggered(event)
            case .readingBody, .discardingBody, .answering: self.keepAlive = false
            case .upgraded: break  // a WebSocket now: its handler closed the session
            }
        }
    }

    /// Shutting down: no keep-alive; a waiting long-polling GET gets its session's close packet.
    private func shutDownPendingPoll() {
        self.keepAlive = false
        if let (session, _) = self.pendingPoll { session.close(reason: .serverShuttingDown) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if self.isMounted, self.handoff == nil || !self.isIdle {
            switch self.state {
            case .idle, .forwarding, .upgraded:
                context.fireErrorCaught(error)
                return
            case .readingBody, .discardingBody, .answering:
                break
            }
        }
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

    private var isIdle: Bool {
        if case .idle = self.state { return true }
        return false
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
        let target = RequestTarget(head.uri)
        guard let engine = self.engine, engine.configuration.matches(path: target.path) else {
            if let local = self.mountedLocalPaths, !local.contains(target.path) {
                self.state = .forwarding
                self.handOffFirstRequest(context: context)
                return
            }
            self.keepAlive = head.isKeepAlive
            self.state = .readingBody(head, .application, ByteBuffer())
            return
        }
        self.keepAlive = head.isKeepAlive
        switch engine.route(head) {
        case .preflight(let headers):
            self.state = .discardingBody
            self.write(status: .noContent, headers: headers, body: ByteBuffer(), context: context)
        case .refused(let code, let isUpgrade):
            self.state = .discardingBody
            if isUpgrade { self.keepAlive = false }
            self.answer(.error(code), head: head, context: context)
        case .request(let request):
            // Answered once the request's end has been read (for an upgrade, so that no HTTP part
            // reaches the WebSocket handlers).
            self.state = .readingBody(head, .engine(request), ByteBuffer())
            if case .post(let sid) = request {
                self.beginPost(sid: sid, head: head, engine: engine, context: context)
            }
        }
    }

    /// The framework's first request on this connection: the framework sets up what serves it.
    private func handOffFirstRequest(context: ChannelHandlerContext) {
        guard let handoff = self.handoff else { return }
        self.handoff = nil
        do {
            try handoff.beforeFirstRequest(context.pipeline.syncOperations)
        } catch {
            self.logger.debug("mounted connection closed: the framework could not serve it", metadata: ["error": "\(error)"])
            context.close(promise: nil)
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
            let handshake = EngineHandshakeRequest(head, remoteAddress: context.channel.remoteAddress, isSecure: self.isSecure, transport: .polling)
            engine.answerPollingHandshake(handshake, on: context.eventLoop).assumeIsolated().whenSuccess { answer in
                self.answer(answer, head: head, context: context)
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

    private func serveApplication(_ head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        guard let application = self.application else {
            self.write(response: .notFound, context: context)
            return
        }
        guard let requestHead = HTTPRequest(head, isSecure: self.isSecure) else {
            self.write(response: .text("Bad Request", status: .badRequest), context: context)
            return
        }
        let request = HTTPServerRequest(head: requestHead, body: body, remoteAddress: context.channel.remoteAddress)
        context.eventLoop.makeFutureWithTask { await application(request) }.assumeIsolated().whenSuccess { response in
            self.write(response: response, context: context)
        }
    }

    // MARK: WebSocket

    private func upgrade(_ head: HTTPRequestHead, request: EngineRequest, engine: EngineServer, context: ChannelHandlerContext) {
        // A refused upgrade ends the connection, like Node's `abortUpgrade`: WebSocket clients only
        // report the failure once the socket closes.
        self.keepAlive = false
        engine.webSocketDecision(
            head,
            request: request,
            remoteAddress: context.channel.remoteAddress,
            isSecure: self.isSecure,
            on: context.eventLoop
        ).assumeIsolated().whenSuccess { decision in
            switch decision {
            case .refuse(let answer):
                self.answer(answer, head: head, context: context)
            case .upgrade(let upgrade):
                self.performUpgrade(upgrade.start(on: context.channel), engine: engine, context: context)
            }
        }
    }

    private func performUpgrade(_ connection: EngineWebSocketConnection, engine: EngineServer, context: ChannelHandlerContext) {
        self.state = .upgraded
        let loopBoundConnection = NIOLoopBound(connection, eventLoop: context.eventLoop)
        // Mounted: the framework's handlers go too when they never served a request; otherwise they stay
        // (the framework's task may still be using them) behind a barrier.
        let frameworkHandlers = self.handoff?.handlers
        let barrier = self.isMounted && frameworkHandlers == nil
        self.handOffWithoutRequest()
        WebSocketUpgrade.upgrade(
            context: context,
            accepted: connection.accepted,
            configuration: engine.configuration.webSocket,
            removing: self.httpHandlers + [self] + (frameworkHandlers ?? [])
        ) { pipeline in
            try loopBoundConnection.value.addEngineHandlers(to: pipeline, barrier: barrier)
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success:
                loopBoundConnection.value.upgradeCompleted()
            case .failure(let error):
                self.logger.debug("WebSocket upgrade failed", metadata: ["ws.error": "\(error)"])
                context.close(promise: nil)
            }
        }
    }

    // MARK: Answers

    private func answer(_ answer: EngineHTTPAnswer, head: HTTPRequestHead?, context: ChannelHandlerContext) {
        guard let engine = self.engine else { return }
        let response = engine.finish(answer, requestOrigin: head?.headers.first(name: "Origin"))
        self.write(status: response.status, headers: response.headers, body: response.body, context: context)
    }

    private func write(response: HTTPServerResponse, context: ChannelHandlerContext) {
        var head = HTTPResponseHead(response.head)
        head.headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
        self.write(status: head.status, headers: head.headers, body: response.body, context: context)
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
