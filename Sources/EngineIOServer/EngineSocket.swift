import EngineIOCore
import Logging
import NIOCore
import NIOHTTP1

/// One Engine.IO session: a client connected over HTTP long-polling or WebSocket.
///
/// All of its state lives on `eventLoop` and is touched only there (this is what makes it safe to
/// share: every public method hops to the loop when called from elsewhere). The delegate is called on
/// that loop too.
public final class EngineSocket: @unchecked Sendable {
    /// The session id.
    public let id: String
    /// The loop that owns this session.
    public let eventLoop: EventLoop
    /// The HTTP request that opened the session (rebuilt from a compact copy kept for the session's life).
    public var handshake: EngineHandshakeRequest { self.storedHandshake.request }
    /// The request that opened the session, as kept.
    let storedHandshake: StoredHandshake
    /// Receives messages and the close; set it in the server's connection handler.
    /// Only touch it on `eventLoop`.
    public var delegate: EngineSocketDelegate?

    private enum State {
        case open
        /// Closed by the server on polling, waiting for the next GET to deliver the close packet.
        case closing
        case closed
    }

    private enum Transport {
        case polling
        case webSocket(WebSocketTransport)
    }

    private let server: EngineServer
    private let flushCoalescer: FlushCoalescer
    private let heartbeatScheduler: HeartbeatScheduler
    /// This session's place in its loop's heartbeat queues (see `HeartbeatScheduler`).
    var heartbeat = HeartbeatScheduler.Link()
    /// The server's configuration (read through the server: not copied into every session).
    private var configuration: EngineServerConfiguration { self.server.configuration }
    private var state: State = .open
    private var transport: Transport
    private var probe: WebSocketTransport?
    /// Frames waiting for the transport (an empty array costs no allocation while the session is idle).
    private var outbox: [EngineFrame] = []
    /// Bytes waiting in the outbox.
    private var outboxBytes = 0
    private var flushScheduled = false
    /// Frames written to the WebSocket channel and not flushed yet (see `enqueue(_:)`).
    private var unflushedWrites = false
    private var pendingPoll: EventLoopPromise<EngineHTTPAnswer>?
    private var postInProgress = false
    private var upgradeTimeoutTask: Scheduled<Void>?
    private var discardTask: Scheduled<Void>?
    /// When the pong for the last ping is due (nil while no ping waits for its pong).
    private var pongDeadline: NIODeadline?
    /// Whether reading from the client is held back (flow control, see `setReadingPaused(_:)`).
    private var readingPaused = false
    /// Long-polling POSTs whose answers wait until reading resumes.
    private var heldPosts: [EventLoopPromise<EngineHTTPAnswer>] = []
    /// The server's traffic observer when the session opened (instrumentation), if any.
    private let traffic: (any EngineTrafficObserver)?
    /// For the traffic observer: whether the session is (still) on long-polling.
    private var pollingForTraffic = false

    init(
        id: String,
        eventLoop: EventLoop,
        handshake: EngineHandshakeRequest,
        webSocket: WebSocketTransport?,
        server: EngineServer
    ) {
        self.id = id
        self.eventLoop = eventLoop
        self.storedHandshake = StoredHandshake(handshake)
        self.server = server
        let loopServices = server.loopServices(for: eventLoop)
        self.flushCoalescer = loopServices.flushCoalescer
        self.heartbeatScheduler = loopServices.heartbeatScheduler
        self.transport = webSocket.map { .webSocket($0) } ?? .polling
        self.traffic = server.trafficObserver
    }

    /// The server's logger with this session's id (made when logging: no copy kept per session).
    private var logger: Logger {
        var logger = self.server.logger
        logger[metadataKey: "eio.sid"] = "\(self.id)"
        return logger
    }

    /// The transport the session currently uses.
    public var transportName: EngineTransport {
        self.eventLoop.preconditionInEventLoop()
        if case .webSocket = self.transport { return .websocket }
        return .polling
    }

    /// Whether the session is open.
    public var isOpen: Bool {
        self.eventLoop.preconditionInEventLoop()
        return self.state == .open
    }

    // MARK: Sending

    /// Sends a message to the client. Messages leave in the order they were sent; several sent during
    /// one event-loop tick leave together (one write system call).
    public func send(_ message: EngineMessage) {
        self.send(frames: [EngineFrame(message: message)])
    }

    /// Sends several messages back to back (a Socket.IO packet and its binary attachments).
    public func send(_ messages: [EngineMessage]) {
        self.send(frames: messages.map { EngineFrame(message: $0) })
    }

    /// Sends messages already encoded as frames (shared between the recipients of a broadcast).
    public func send(frames: [EngineFrame]) {
        if self.eventLoop.inEventLoop {
            self.enqueueMessages(frames)
        } else {
            self.eventLoop.execute { self.enqueueMessages(frames) }
        }
    }

    /// Sends one message already encoded as a frame (no array for the usual single-frame packet).
    package func send(frame: EngineFrame) {
        if self.eventLoop.inEventLoop {
            self.enqueueMessage(frame)
        } else {
            self.eventLoop.execute { self.enqueueMessage(frame) }
        }
    }

    private func enqueueMessage(_ frame: EngineFrame) {
        if let traffic = self.traffic, self.state == .open { self.countSent(CollectionOfOne(frame), to: traffic) }
        self.enqueue(frame)
    }

    private func enqueueMessages(_ frames: [EngineFrame]) {
        if let traffic = self.traffic, self.state == .open { self.countSent(frames, to: traffic) }
        for frame in frames { self.enqueue(frame) }
    }

    /// Closes the session: messages already sent are delivered first, then the client gets a close packet.
    public func close() {
        self.close(reason: .forcedClose)
    }

    /// Closes the session as `close()` does, reporting `reason` to the delegate (e.g. `.sendBufferFull` for
    /// a client cut for reading too slowly).
    public func close(reason: EngineCloseReason) {
        if self.eventLoop.inEventLoop {
            self.closeFromServer(reason: reason)
        } else {
            self.eventLoop.execute { self.closeFromServer(reason: reason) }
        }
    }

    private func enqueue(_ frame: EngineFrame) {
        guard self.state == .open else { return }
        EngineMetrics.packetsOut.increment()
        EngineMetrics.bytesOut.increment(by: frame.bytes.readableBytes)
        // On a WebSocket of this loop with nothing queued before it, the frame goes to the channel at once,
        // unflushed (no outbox array to allocate); the flush still waits for the end of the tick.
        if self.outbox.isEmpty, case .webSocket(let webSocket) = self.transport, webSocket.writeUnflushed(frame, from: self.eventLoop) {
            self.unflushedWrites = true
            self.scheduleFlush()
            return
        }
        self.outbox.append(frame)
        self.outboxBytes += frame.bytes.readableBytes
        if self.outboxBytes > self.configuration.maxBufferedBytes, case .polling = self.transport, self.pendingPoll == nil {
            self.logger.info("engine.io session closed: client too slow", metadata: ["eio.buffered": "\(self.outboxBytes)"])
            self.finish(reason: .sendBufferFull)
            return
        }
        self.scheduleFlush()
    }

    private func enqueue(_ packet: EnginePacket) {
        self.enqueue(EngineFrame(packet))
    }

    private func scheduleFlush() {
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        self.flushCoalescer.markDirty(self)
    }

    /// Called by the loop's flush coalescer at the end of the tick in which messages were queued.
    func flushIfDirty() {
        guard self.flushScheduled else { return }
        self.flush()
    }

    /// Whether a message sent now would leave at once: a WebSocket whose channel is writable, or a
    /// pending long-polling GET. Volatile messages are dropped when this is false.
    public var isWritable: Bool {
        self.eventLoop.preconditionInEventLoop()
        guard self.state == .open else { return false }
        switch self.transport {
        case .webSocket(let webSocket): return webSocket.channel.isWritable
        case .polling: return self.pendingPoll != nil
        }
    }

    /// The bytes queued for this client and not yet taken by the kernel: the outbox, plus what the
    /// WebSocket channel holds back.
    public var bufferedBytes: Int {
        self.eventLoop.preconditionInEventLoop()
        guard case .webSocket(let webSocket) = self.transport, webSocket.channel.eventLoop === self.eventLoop,
            let buffered = try? webSocket.channel.syncOptions?.getOption(.bufferedWritableBytes)
        else { return self.outboxBytes }
        return self.outboxBytes + buffered
    }

    /// Holds back (or resumes) reading from the client: a WebSocket stops reading its socket, so that the
    /// client's own TCP window fills; a long-polling POST is answered only once reading resumes, so that
    /// the client sends no next one. What was already read is still handled.
    public func setReadingPaused(_ paused: Bool) {
        self.eventLoop.preconditionInEventLoop()
        guard paused != self.readingPaused else { return }
        self.readingPaused = paused
        if case .webSocket(let webSocket) = self.transport { Self.setAutoRead(!paused, on: webSocket, from: self.eventLoop) }
        if !paused { self.releaseHeldPosts() }
    }

    private static func setAutoRead(_ autoRead: Bool, on webSocket: WebSocketTransport, from loop: EventLoop) {
        let channel = webSocket.channel
        if channel.eventLoop === loop, let options = channel.syncOptions {
            try? options.setOption(.autoRead, value: autoRead)
        } else {
            channel.setOption(.autoRead, value: autoRead).whenFailure { _ in }
        }
    }

    private func releaseHeldPosts() {
        let held = self.heldPosts
        self.heldPosts = []
        for post in held { post.succeed(.ok) }
    }

    private func notifyDrained() {
        self.delegate?.engineSocketDidDrain(self)
    }

    /// Hands the outbox to the transport, if it can take it now.
    private func flush() {
        self.flushScheduled = false
        let unflushed = self.unflushedWrites
        self.unflushedWrites = false
        guard !self.outbox.isEmpty || unflushed else { return }
        switch self.transport {
        case .webSocket(let webSocket):
            if self.outbox.isEmpty {
                webSocket.flush()
            } else {
                let frames = self.outbox
                self.outbox = []
                self.outboxBytes = 0
                webSocket.write(frames, close: false, from: self.eventLoop)
            }
            if webSocket.channel.eventLoop === self.eventLoop, !webSocket.channel.isWritable,
                let buffered = try? webSocket.channel.syncOptions?.getOption(.bufferedWritableBytes),
                buffered > self.configuration.maxBufferedBytes
            {
                self.logger.info("engine.io session closed: client too slow", metadata: ["eio.buffered": "\(buffered)"])
                self.finish(reason: .sendBufferFull)
            }
        case .polling:
            guard let poll = self.pendingPoll else { return }
            self.pendingPoll = nil
            poll.succeed(.text(self.takePollingPayload()))
            self.notifyDrained()
        }
    }

    /// Takes up to `maxPacketsPerPoll` packets from the outbox as one polling payload; the rest waits
    /// for the next GET.
    private func takePollingPayload() -> ByteBuffer {
        var body = ByteBuffer()
        let count = min(self.outbox.count, self.configuration.maxPacketsPerPoll)
        PollingPayload.encode(frames: self.outbox.prefix(count), into: &body)
        for frame in self.outbox.prefix(count) { self.outboxBytes -= frame.bytes.readableBytes }
        self.outbox.removeFirst(count)
        return body
    }

    // MARK: Lifecycle

    /// Called once the session is registered: sends the open packet and starts the heartbeat.
    func open() -> EngineFrame {
        self.eventLoop.preconditionInEventLoop()
        let upgrades =
            self.configuration.allowUpgrades && self.transportName == .polling && self.configuration.transports.contains(.websocket)
            ? ["websocket"] : []
        let handshake = EngineHandshake(
            sid: self.id,
            upgrades: upgrades,
            pingInterval: Int(TimeAmount(self.configuration.pingInterval).nanoseconds / 1_000_000),
            pingTimeout: Int(TimeAmount(self.configuration.pingTimeout).nanoseconds / 1_000_000),
            maxPayload: self.configuration.maxHttpBufferSize
        )
        self.schedulePing()
        EngineMetrics.connections(self.transportName).increment()
        self.countOpened()
        return EngineFrame(handshake.openPacket)
    }

    private func schedulePing() {
        self.heartbeatScheduler.schedulePing(self)
    }

    /// The heartbeat scheduler's call: time to ping; the pong is due within pingTimeout.
    func heartbeatPingDue() {
        guard self.state == .open else { return }
        self.enqueue(.ping)
        self.pongDeadline = self.heartbeatScheduler.awaitPong(self)
    }

    /// The heartbeat scheduler's call: no pong came within pingTimeout.
    func heartbeatPongMissed() {
        guard self.state == .open else { return }
        self.logger.debug("engine.io session closed: no pong within pingTimeout")
        self.finish(reason: .pingTimeout)
    }

    /// Closes from the server side: flush, then a close packet, then the transport.
    private func closeFromServer(reason: EngineCloseReason) {
        guard self.state == .open else { return }
        switch self.transport {
        case .webSocket(let webSocket):
            var frames = self.outbox
            self.outbox = []
            frames.append(EngineFrame(.close))
            self.outboxBytes = 0
            webSocket.write(frames, close: true, from: self.eventLoop)
            self.finish(reason: reason)
        case .polling:
            self.lingerBeforeFinishing(last: .close, reason: reason)
            if let poll = self.pendingPoll {
                self.pendingPoll = nil
                poll.succeed(.text(self.takePollingPayload()))
                if self.outbox.isEmpty { self.finish(reason: reason) }
            }
        }
    }

    /// Closed, but kept findable until the next GET collects `last` (or pingTimeout passes).
    private func lingerBeforeFinishing(last: EnginePacket, reason: EngineCloseReason) {
        self.outbox.append(EngineFrame(last))
        self.notifyClosed(reason: reason)
        self.state = .closing
        self.discardTask = self.eventLoop.scheduleTask(in: TimeAmount(self.configuration.pingTimeout)) { [weak self] in
            self?.finish(reason: reason)
        }
    }

    /// Ends the session for good: timers stop, transports close, the server forgets it.
    private func finish(reason: EngineCloseReason) {
        guard self.state != .closed else { return }
        let wasOpen = self.state == .open
        self.state = .closed
        self.heartbeatScheduler.remove(self)
        self.upgradeTimeoutTask?.cancel()
        self.discardTask?.cancel()
        self.outbox.removeAll()
        self.outboxBytes = 0
        self.releaseHeldPosts()
        if let poll = self.pendingPoll {
            // Like Node.js: a GET held when the server ends the session (ping timeout, an error) gets the
            // close packet; one held when the client closed gets a noop (engine.io's polling onClose).
            self.pendingPoll = nil
            let last: EnginePacket = reason == .transportClose ? .noop : .close
            poll.succeed(.text(PollingPayload.encode(CollectionOfOne(last))))
        }
        if case .webSocket(let webSocket) = self.transport { webSocket.close(from: self.eventLoop) }
        self.probe?.close(from: self.eventLoop)
        self.probe = nil
        self.server.remove(self)
        EngineMetrics.connections(self.transportName).decrement()
        // The WebSocket handler and this session refer to each other: let go of the transport.
        self.transport = .polling
        if wasOpen { self.notifyClosed(reason: reason) }
    }

    private func notifyClosed(reason: EngineCloseReason) {
        self.logger.debug("engine.io session closed", metadata: ["eio.reason": "\(reason)"])
        self.traffic?.sessionClosed(self, reason: reason, wasPolling: self.pollingForTraffic)
        EngineMetrics.disconnected(reason)
        let delegate = self.delegate
        self.delegate = nil
        delegate?.engineSocket(self, didCloseWith: reason)
    }

    // MARK: Instrumentation

    /// Tells the traffic observer about a session that just opened.
    private func countOpened() {
        guard let traffic = self.traffic else { return }
        self.pollingForTraffic = self.transportName == .polling
        traffic.sessionOpened(self, transport: self.transportName)
    }

    /// Tells the traffic observer about messages queued for the client (their payload, without the
    /// type digit of a text frame).
    private func countSent(_ frames: some Sequence<EngineFrame>, to traffic: any EngineTrafficObserver) {
        for frame in frames { traffic.messageSent(self, bytes: frame.bytes.readableBytes - (frame.isBinary ? 0 : 1)) }
    }

    /// The session now runs over WebSocket: the traffic observer and the delegate are told.
    private func notifyUpgraded() {
        if let traffic = self.traffic {
            self.pollingForTraffic = false
            traffic.sessionUpgraded(self)
        }
        self.delegate?.engineSocketDidUpgrade(self)
    }

    // MARK: Receiving

    private func receive(_ packet: EnginePacket) {
        guard self.state == .open else { return }
        EngineMetrics.packetsIn.increment()
        EngineMetrics.bytesIn.increment(by: packet.payload.readableBytes + 1)
        switch packet.type {
        case .message:
            self.traffic?.messageReceived(self, bytes: packet.payload.readableBytes)
            self.delegate?.engineSocket(self, didReceive: packet.isBinary ? .binary(packet.payload) : .text(packet.payload))
        case .pong:
            self.pongDeadline = nil
            self.schedulePing()
        case .close:
            // Like Node.js: the session ends at once; a pending GET is ended with a noop.
            self.finish(reason: .transportClose)
        case .ping, .open, .upgrade, .noop:
            break
        }
    }

    // MARK: Polling

    /// A long-polling GET: answered now if packets are waiting, else when some are sent.
    func poll(answer: EventLoopPromise<EngineHTTPAnswer>) {
        self.eventLoop.preconditionInEventLoop()
        switch self.state {
        case .closed:
            answer.succeed(.error(.unknownSessionID))
            return
        case .closing:
            answer.succeed(.text(self.takePollingPayload()))
            if self.outbox.isEmpty { self.finish(reason: .forcedClose) }
            return
        case .open:
            break
        }
        if self.pingDeadlinePassed() {
            answer.succeed(.error(.unknownSessionID))
            return
        }
        guard case .polling = self.transport else {
            answer.succeed(.error(.badRequest))
            return
        }
        if let previous = self.pendingPoll {
            self.logger.info("engine.io session closed: a second concurrent polling GET")
            self.pendingPoll = nil
            previous.succeed(.text(PollingPayload.encode(CollectionOfOne(EnginePacket.close))))
            answer.succeed(.error(.badRequest))
            self.finish(reason: .transportError)
            return
        }
        if !self.outbox.isEmpty {
            answer.succeed(.text(self.takePollingPayload()))
            self.notifyDrained()
        } else if self.probe != nil {
            // Upgrading: the client pauses polling; end this request at once.
            answer.succeed(.text(PollingPayload.encode(CollectionOfOne(EnginePacket.noop))))
        } else {
            self.pendingPoll = answer
        }
    }

    /// The connection that carried a pending GET went away.
    func pollAborted(_ answer: EventLoopPromise<EngineHTTPAnswer>) {
        self.eventLoop.preconditionInEventLoop()
        guard let pending = self.pendingPoll, pending.futureResult === answer.futureResult else { return }
        self.pendingPoll = nil
        answer.succeed(.text(ByteBuffer()))
        guard case .polling = self.transport, self.probe == nil else { return }
        self.logger.debug("engine.io polling request closed by the client")
        self.finish(reason: .transportClose)
    }

    /// A long-polling POST carrying `body`, answered at once unless reading is held back (then once it
    /// resumes).
    func postAnswer(body: ByteBuffer) -> EventLoopFuture<EngineHTTPAnswer> {
        let answer = self.post(body: body)
        guard answer.status == .ok, self.readingPaused, self.state == .open else { return self.eventLoop.makeSucceededFuture(answer) }
        let held = self.eventLoop.makePromise(of: EngineHTTPAnswer.self)
        self.heldPosts.append(held)
        return held.futureResult
    }

    /// A long-polling POST carrying `body`.
    func post(body: ByteBuffer) -> EngineHTTPAnswer {
        self.eventLoop.preconditionInEventLoop()
        self.postInProgress = false
        guard self.state == .open else { return .error(.unknownSessionID) }
        guard case .polling = self.transport else { return .error(.badRequest) }
        if self.pingDeadlinePassed() { return .error(.unknownSessionID) }
        let packets: [EnginePacket]
        do {
            guard body.readableBytes > 0 else { throw EngineDecodingError.emptyPacket(at: 0) }
            packets = try PollingPayload.decode(body)
        } catch {
            self.logger.info("engine.io session closed: malformed polling payload", metadata: ["eio.error": "\(error)"])
            self.finish(reason: .parseError)
            return .error(.badRequest)
        }
        for packet in packets { self.receive(packet) }
        return .ok
    }

    /// A POST's head arrived: only one may be in progress (its body may still be on its way); a second
    /// one closes the session. Returns false in that case.
    func beginPost() -> Bool {
        self.eventLoop.preconditionInEventLoop()
        guard self.state == .open, case .polling = self.transport else { return true }  // answered later
        guard !self.postInProgress else {
            self.logger.info("engine.io session closed: a second concurrent polling POST")
            self.finish(reason: .transportError)
            return false
        }
        self.postInProgress = true
        return true
    }

    /// The connection of a POST in progress went away before its body was complete.
    func postAborted() {
        self.eventLoop.preconditionInEventLoop()
        self.postInProgress = false
    }

    /// Whether the pong is overdue: the timer may not have fired yet on a busy loop, but a request that
    /// arrives after the deadline closes the session, as the timer would have.
    private func pingDeadlinePassed() -> Bool {
        guard let deadline = self.pongDeadline, NIODeadline.now() >= deadline else { return false }
        self.logger.debug("engine.io session closed: no pong within pingTimeout")
        self.finish(reason: .pingTimeout)
        return true
    }

    /// A polling body over maxHttpBufferSize: the session ends.
    func postTooLarge() {
        self.eventLoop.preconditionInEventLoop()
        guard self.state == .open else { return }
        self.logger.info("engine.io session closed: polling payload over maxHttpBufferSize")
        self.finish(reason: .transportError)
    }

    // MARK: WebSocket

    /// Whether a WebSocket may now be attached as an upgrade probe.
    func canUpgrade() -> Bool {
        self.eventLoop.preconditionInEventLoop()
        guard self.state == .open, self.probe == nil, case .polling = self.transport else { return false }
        return self.configuration.allowUpgrades
    }

    /// A WebSocket for this session finished its HTTP handshake: it is probed before it carries data.
    func attachProbe(_ webSocket: WebSocketTransport) {
        self.eventLoop.preconditionInEventLoop()
        guard self.canUpgrade() else {
            webSocket.close(from: self.eventLoop)
            return
        }
        self.probe = webSocket
        self.upgradeTimeoutTask = self.eventLoop.scheduleTask(in: TimeAmount(self.configuration.upgradeTimeout)) { [weak self] in
            guard let self, let probe = self.probe, probe.id == webSocket.id else { return }
            self.logger.debug("engine.io upgrade timed out")
            self.probe = nil
            probe.close(from: self.eventLoop)
        }
    }

    /// A packet arrived on one of this session's WebSockets.
    func webSocket(_ id: ObjectIdentifier, received packet: EnginePacket) {
        self.eventLoop.preconditionInEventLoop()
        guard self.state == .open else { return }
        if case .webSocket(let active) = self.transport, active.id == id {
            self.receive(packet)
            return
        }
        guard let probe = self.probe, probe.id == id else { return }
        switch packet.type {
        case .ping where packet.payload.readableBytesView.elementsEqual("probe".utf8):
            probe.write([EngineFrame(.probeAnswer)], close: false, from: self.eventLoop)
            if let poll = self.pendingPoll {
                // End the pending GET so that the client can switch (with data, if any is waiting).
                self.pendingPoll = nil
                poll.succeed(.text(self.outbox.isEmpty ? PollingPayload.encode(CollectionOfOne(EnginePacket.noop)) : self.takePollingPayload()))
            }
        case .upgrade:
            self.upgradeTimeoutTask?.cancel()
            self.probe = nil
            self.transport = .webSocket(probe)
            if self.readingPaused {
                Self.setAutoRead(false, on: probe, from: self.eventLoop)
                self.releaseHeldPosts()
            }
            EngineMetrics.pollingConnections.decrement()
            EngineMetrics.webSocketConnections.increment()
            if let poll = self.pendingPoll {
                self.pendingPoll = nil
                poll.succeed(.text(PollingPayload.encode(CollectionOfOne(EnginePacket.noop))))
            }
            self.logger.debug("engine.io session upgraded to websocket")
            self.flush()
            self.notifyUpgraded()
        default:
            self.logger.debug("engine.io upgrade failed: unexpected packet on the probe", metadata: ["eio.packet": "\(packet.type)"])
            self.upgradeTimeoutTask?.cancel()
            self.probe = nil
            probe.close(from: self.eventLoop)
        }
    }

    /// A packet on a WebSocket could not be read.
    func webSocket(_ id: ObjectIdentifier, failedWith error: EngineDecodingError) {
        self.eventLoop.preconditionInEventLoop()
        if case .webSocket(let active) = self.transport, active.id == id {
            self.logger.info("engine.io session closed: malformed packet", metadata: ["eio.error": "\(error)"])
            self.finish(reason: .parseError)
        } else if let probe = self.probe, probe.id == id {
            self.probe = nil
            probe.close(from: self.eventLoop)
        }
    }

    /// One of this session's WebSockets became writable again.
    func webSocketDrained(_ id: ObjectIdentifier) {
        self.eventLoop.preconditionInEventLoop()
        guard self.state == .open, case .webSocket(let active) = self.transport, active.id == id else { return }
        self.notifyDrained()
    }

    /// One of this session's WebSockets closed.
    func webSocketClosed(_ id: ObjectIdentifier) {
        self.eventLoop.preconditionInEventLoop()
        if case .webSocket(let active) = self.transport, active.id == id {
            self.finish(reason: .transportClose)
        } else if let probe = self.probe, probe.id == id {
            self.upgradeTimeoutTask?.cancel()
            self.probe = nil
        }
    }
}
