import EngineIOCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// An Engine.IO v4 server: sessions over HTTP long-polling and WebSocket, their heartbeats and upgrades.
///
/// It does not listen by itself: an `HTTPServer` hands it the requests under `configuration.path`.
/// Register `onConnection` before the HTTP server starts.
public final class EngineServer: Sendable {
    /// The server's options.
    public let configuration: EngineServerConfiguration
    let logger: Logger
    private let sessions = NIOLockedValueBox<[String: EngineSocket]>([:])
    /// Wrapped in a struct: a bare function type in a generic box gets re-thunked on every `inout` access,
    /// a chain that grows with each call (one per connection).
    private struct ConnectionHandler: Sendable {
        let call: @Sendable (EngineSocket) -> Void
    }

    private let connectionHandler = NIOLockedValueBox<ConnectionHandler?>(nil)
    private let trafficObserverBox = NIOLockedValueBox<(any EngineTrafficObserver)?>(nil)
    private let loopServices = NIOLockedValueBox<[ObjectIdentifier: LoopServices]>([:])
    /// Set by the first `drainOnce`.
    private let shutdownDrain = NIOLockedValueBox<EventLoopFuture<Void>?>(nil)

    /// What the sessions of one event loop share.
    struct LoopServices {
        let flushCoalescer: FlushCoalescer
        let heartbeatScheduler: HeartbeatScheduler
    }

    /// Creates a server with `configuration`, logging to `logger`.
    public init(configuration: EngineServerConfiguration = .init(), logger: Logger = Logger(label: "engine.io")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Sets the handler called for every new session, on the session's event loop, before any of its
    /// messages is delivered: set the session's delegate there.
    public func onConnection(_ handler: @escaping @Sendable (EngineSocket) -> Void) {
        self.connectionHandler.withLockedValue { $0 = ConnectionHandler(call: handler) }
    }

    /// Counts the traffic of the sessions opened from now on (nil stops counting new sessions); sessions
    /// keep the observer they were opened with.
    public var trafficObserver: (any EngineTrafficObserver)? {
        get { self.trafficObserverBox.withLockedValue { $0 } }
        set { self.trafficObserverBox.withLockedValue { $0 = newValue } }
    }

    /// The number of open sessions.
    public var clientsCount: Int { self.sessions.withLockedValue { $0.count } }

    /// The ids of the open sessions (for tests).
    var sessionIDs: [String] { self.sessions.withLockedValue { Array($0.keys) } }

    /// The open session with id `sid`.
    public func socket(id sid: String) -> EngineSocket? {
        self.sessions.withLockedValue { $0[sid] }
    }

    /// Closes every session (with a close packet).
    public func closeAll(reason: EngineCloseReason = .forcedClose) {
        for session in self.sessions.withLockedValue({ Array($0.values) }) { session.close(reason: reason) }
    }

    /// Closes every session with reason `server shutting down` (each client gets a close packet), then waits
    /// until they are gone or `deadline` has passed.
    public func drain(until deadline: NIODeadline) async {
        self.closeAll(reason: .serverShuttingDown)
        while self.clientsCount > 0, NIODeadline.now() < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The first call closes every session with reason `server shutting down`; every call returns a future,
    /// completed on `eventLoop`, that succeeds once the sessions are gone or `gracePeriod` after the first
    /// call. For servers that quiesce each connection on their own (framework mounts): a connection holds
    /// the framework's shutdown back until the sessions have been told.
    func drainOnce(on eventLoop: EventLoop, gracePeriod: TimeAmount = .seconds(10)) -> EventLoopFuture<Void> {
        let drained: EventLoopFuture<Void> = self.shutdownDrain.withLockedValue { existing in
            if let existing { return existing }
            let promise = eventLoop.makePromise(of: Void.self)
            let deadline = NIODeadline.now() + gracePeriod
            @Sendable func check() {
                if self.clientsCount == 0 || NIODeadline.now() >= deadline {
                    promise.succeed()
                } else {
                    eventLoop.scheduleTask(in: .milliseconds(10)) { check() }
                }
            }
            existing = promise.futureResult
            eventLoop.execute {
                self.closeAll(reason: .serverShuttingDown)
                check()
            }
            return promise.futureResult
        }
        return drained.hop(to: eventLoop)
    }

    /// The flush coalescer of `eventLoop`, made on first use.
    func loopServices(for eventLoop: EventLoop) -> LoopServices {
        self.loopServices.withLockedValue { services in
            if let existing = services[ObjectIdentifier(eventLoop)] { return existing }
            let created = LoopServices(
                flushCoalescer: FlushCoalescer(eventLoop: eventLoop),
                heartbeatScheduler: HeartbeatScheduler(
                    eventLoop: eventLoop,
                    pingInterval: TimeAmount(self.configuration.pingInterval),
                    pingTimeout: TimeAmount(self.configuration.pingTimeout)
                )
            )
            services[ObjectIdentifier(eventLoop)] = created
            return created
        }
    }

    func remove(_ session: EngineSocket) {
        self.sessions.withLockedValue { sessions in
            if sessions[session.id] === session { sessions[session.id] = nil }
        }
    }

    /// Registers a new session on `eventLoop` (the caller's) and announces it; returns it with its open packet.
    func openSession(handshake: EngineHandshakeRequest, on eventLoop: EventLoop, webSocket: WebSocketTransport?) -> (EngineSocket, EngineFrame) {
        eventLoop.preconditionInEventLoop()
        var id = SessionID.make()
        while self.sessions.withLockedValue({ $0[id] != nil }) { id = SessionID.make() }
        let session = EngineSocket(id: id, eventLoop: eventLoop, handshake: handshake, webSocket: webSocket, server: self)
        self.sessions.withLockedValue { $0[id] = session }
        let open = session.open()
        self.logger.debug("engine.io session opened", metadata: ["eio.sid": "\(id)", "eio.transport": "\(handshake.transport)"])
        self.connectionHandler.withLockedValue { $0 }?.call(session)
        return (session, open)
    }

    /// Runs the `allowRequest` hook, if any; the future completes on `eventLoop`.
    func authorize(_ handshake: EngineHandshakeRequest, on eventLoop: EventLoop) -> EventLoopFuture<EngineRequestDecision> {
        guard let hook = self.configuration.allowRequest else { return eventLoop.makeSucceededFuture(.allow) }
        return eventLoop.makeFutureWithTask { await hook(handshake) }
    }

    /// Whether a WebSocket upgrade with these headers may proceed: a browser's `Origin` must be allowed
    /// by the CORS policy, or be the server's own origin.
    func allowsWebSocketOrigin(_ headers: HTTPHeaders) -> Bool {
        guard let origin = headers.first(name: "Origin") else { return true }
        if let cors = self.configuration.cors, cors.allows(origin: origin) { return true }
        guard let host = headers.first(name: "Host") else { return false }
        let originHost = origin.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first
        return originHost.map { $0.lowercased() == host.lowercased() } ?? false
    }

    /// A long-polling handshake: the answer carries the open packet.
    func pollingHandshake(_ handshake: EngineHandshakeRequest, on eventLoop: EventLoop) -> EngineHTTPAnswer {
        let (session, open) = self.openSession(handshake: handshake, on: eventLoop, webSocket: nil)
        var body = ByteBuffer()
        PollingPayload.encode(frames: CollectionOfOne(open), into: &body)
        var answer = EngineHTTPAnswer.text(body)
        if let cookie = self.configuration.cookie {
            answer.headers.add(name: "Set-Cookie", value: cookie.headerValue(sid: session.id))
        }
        return answer
    }

    /// The session `sid` for a request from `address`: with `bindSessionToAddress`, a request from
    /// another IP address than the handshake's finds no session (it cannot take over the session).
    func socket(id sid: String, from address: SocketAddress?) -> EngineSocket? {
        guard let session = self.socket(id: sid) else { return nil }
        guard self.configuration.bindSessionToAddress else { return session }
        guard let expected = session.storedHandshake.remoteAddress?.ipAddress, expected == address?.ipAddress else {
            self.logger.info("engine.io request refused: sid used from another address", metadata: ["eio.sid": "\(sid)"])
            return nil
        }
        return session
    }

    /// A long-polling GET for `sid`; the answer completes on `promise`'s loop.
    func poll(sid: String, from address: SocketAddress?, promise: EventLoopPromise<EngineHTTPAnswer>) -> EngineSocket? {
        guard let session = self.socket(id: sid, from: address) else {
            promise.succeed(.error(.unknownSessionID))
            return nil
        }
        session.eventLoop.execute { session.poll(answer: promise) }
        return session
    }

    /// A long-polling POST for `sid`.
    func post(sid: String, from address: SocketAddress?, body: ByteBuffer, on eventLoop: EventLoop) -> EventLoopFuture<EngineHTTPAnswer> {
        guard let session = self.socket(id: sid, from: address) else { return eventLoop.makeSucceededFuture(.error(.unknownSessionID)) }
        return session.eventLoop.flatSubmit { session.postAnswer(body: body) }.hop(to: eventLoop)
    }
}
