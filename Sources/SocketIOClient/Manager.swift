import EngineIOClient
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SocketIOCore

/// One Engine.IO connection to a server, shared by one ``Socket`` per namespace, with reconnection.
///
/// ```swift
/// let manager = try Manager(url: "http://localhost:3000")
/// let socket = manager.socket("/chat")
/// socket.on("message") { args in print(args) }
/// let reply = try await socket.timeout(.seconds(5)).emitWithAck("hello", "world")
/// ```
///
/// Everything the Manager does runs on one event loop; its methods may be called from anywhere.
///
/// Lifetime: a ``Socket`` holds its Manager; the Manager holds its sockets weakly, except that a socket is kept
/// alive while it is active (connecting, connected or waiting to reconnect), so that its listeners keep running
/// when only the Manager is held. Once its sockets are disconnected (``Socket/disconnect()``, ``close()``, or
/// refused by the server) a Manager and its sockets are freed as soon as nothing else holds them.
public final class Manager: Sendable {
    /// The options.
    public let options: SocketOptions
    /// The Engine.IO configuration derived from the URL and the options.
    public let engineConfiguration: EngineClientConfiguration
    /// The event loop of the connection.
    public let eventLoop: EventLoop
    let logger: Logger
    let core: NIOLoopBoundBox<ManagerCore>
    private let sockets = NIOLockedValueBox<[String: WeakSocket]>([:])
    private let listeners = NIOLockedValueBox<[(id: Int, handler: @Sendable (ManagerEvent) -> Void)]>([])
    private let nextListenerID = NIOLockedValueBox(0)

    /// Creates a Manager for `url` (`http`, `https`, `ws` or `wss`; the URL's path is ignored: namespaces are
    /// chosen with ``socket(_:auth:)``). It connects when its first socket does.
    public init(
        url: String,
        options: SocketOptions = SocketOptions(),
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "socket.io-client")
    ) throws {
        let parsed: (configuration: EngineClientConfiguration, urlPath: String)
        do {
            parsed = try EngineClientConfiguration.parse(url: url)
        } catch {
            throw SocketClientError.invalidURL(url)
        }
        var configuration = parsed.configuration
        configuration.path = options.path.hasSuffix("/") ? options.path : options.path + "/"
        if !configuration.path.hasPrefix("/") { configuration.path = "/" + configuration.path }
        configuration.query += options.query.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        configuration.extraHeaders = options.extraHeaders.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        configuration.transports = options.transports
        configuration.upgrade = options.upgrade
        configuration.tlsConfiguration = options.tlsConfiguration
        self.options = options
        self.engineConfiguration = configuration
        self.eventLoop = eventLoopGroup.next()
        self.logger = logger
        let machine = ReconnectionStateMachine(
            reconnection: options.reconnection,
            reconnectionAttempts: options.reconnectionAttempts,
            backoff: Backoff(
                minimum: Int(TimeAmount(options.reconnectionDelay).nanoseconds / 1_000_000),
                maximum: Int(TimeAmount(options.reconnectionDelayMax).nanoseconds / 1_000_000),
                jitter: options.randomizationFactor
            ),
            generator: SystemRandomNumberGenerator()
        )
        self.core = NIOLoopBoundBox.makeBoxSendingValue(
            ManagerCore(eventLoop: self.eventLoop, reconnection: machine),
            eventLoop: self.eventLoop
        )
    }

    /// The socket of `namespace` (created on first use; the same object afterwards, as long as it is alive). It
    /// connects right away when `autoConnect` is on. `auth` overrides the options' `auth`.
    public func socket(_ namespace: String = "/", auth: SocketAuth? = nil) -> Socket {
        let namespace = namespace.hasPrefix("/") ? namespace : "/" + namespace
        let (socket, created) = self.sockets.withLockedValue { sockets -> (Socket, Bool) in
            if let socket = sockets[namespace]?.socket { return (socket, false) }
            let socket = Socket(manager: self, namespace: namespace, auth: auth ?? self.options.auth)
            sockets[namespace] = WeakSocket(socket: socket)
            return (socket, true)
        }
        if created {
            self.onLoop { core in core.register(socket, options: self.options) }
            if self.options.autoConnect { socket.open() }
        }
        return socket
    }

    /// Opens the connection (sockets do this themselves when they connect).
    public func open() {
        self.onLoop { core in core.openManager() }
    }

    /// Disconnects every socket and closes the connection; no reconnection follows.
    public func close() {
        self.onLoop { core in core.closeManager() }
    }

    /// Calls `handler` with every Manager event (`reconnect_attempt`, `reconnect`, …), on the event loop.
    @discardableResult
    public func onEvent(_ handler: @escaping @Sendable (ManagerEvent) -> Void) -> Int {
        let id = self.nextListenerID.withLockedValue { value -> Int in
            value += 1
            return value
        }
        self.listeners.withLockedValue { $0.append((id, handler)) }
        return id
    }

    /// The Manager's events as an asynchronous sequence.
    public func events() -> AsyncStream<ManagerEvent> {
        let (stream, continuation) = AsyncStream<ManagerEvent>.makeStream()
        let id = self.onEvent { continuation.yield($0) }
        continuation.onTermination = { [weak self] _ in self?.offEvent(id) }
        return stream
    }

    /// Removes a handler added with ``onEvent(_:)``.
    public func offEvent(_ id: Int) {
        self.listeners.withLockedValue { $0.removeAll { $0.id == id } }
    }

    func publish(_ event: ManagerEvent) {
        let handlers = self.listeners.withLockedValue { $0.map(\.handler) }
        for handler in handlers { handler(event) }
    }

    /// Runs `body` on the event loop with the loop-confined state. Work submitted from one thread runs in order.
    func onLoop(_ body: @escaping @Sendable (ManagerCore) -> Void) {
        self.eventLoop.execute {
            let core = self.core.value
            core.manager = self
            body(core)
        }
    }
}

/// A socket the Manager does not keep alive.
struct WeakSocket: Sendable {
    weak var socket: Socket?
}

/// The state of one socket inside the Manager.
final class SocketEntry {
    typealias Callback = (Result<[JSONValue], SocketClientError>) -> Void
    var machine: SocketStateMachine<Callback>
    let namespace: String
    let auth: SocketAuth
    /// The socket, while something holds it.
    weak var socket: Socket?
    /// The socket while it is active: the Manager keeps it (and its listeners) alive until it is disconnected.
    var retained: Socket?
    var ackTimers: [Int: Scheduled<Void>] = [:]

    init(socket: Socket, options: SocketOptions) {
        self.socket = socket
        self.namespace = socket.namespace
        self.auth = socket.auth
        self.machine = SocketStateMachine(
            namespace: socket.namespace,
            retries: options.retries > 0 ? options.retries : nil,
            ackTimeout: options.ackTimeout.map { TimeAmount($0) }
        )
    }
}

/// The Manager's state, confined to its event loop.
final class ManagerCore {
    let eventLoop: EventLoop
    weak var manager: Manager?
    var reconnection: ReconnectionStateMachine<SystemRandomNumberGenerator>
    var engine: EngineClient?
    var engineIsOpen = false
    var generation = 0
    var openTimer: Scheduled<Void>?
    var reconnectTimer: Scheduled<Void>?
    var entries: [String: SocketEntry] = [:]
    var decoder = SocketPacketDecoder(configuration: .init(rejectsReservedEventNames: false))
    let encoder = SocketPacketEncoder()
    var lastError = SocketClientError.transport("connection failed")

    init(eventLoop: EventLoop, reconnection: ReconnectionStateMachine<SystemRandomNumberGenerator>) {
        self.eventLoop = eventLoop
        self.reconnection = reconnection
    }

    func register(_ socket: Socket, options: SocketOptions) {
        if let entry = self.entries[socket.namespace] {
            // A socket of this namespace exists; or existed: it was released, so it was inactive and its state
            // goes with it.
            guard entry.socket == nil else { return }
            for timer in entry.ackTimers.values { timer.cancel() }
        }
        self.entries[socket.namespace] = SocketEntry(socket: socket, options: options)
    }

    // MARK: Manager lifecycle

    func openManager() {
        self.perform(self.reconnection.connect())
    }

    func closeManager() {
        for entry in self.entries.values where entry.machine.active {
            self.perform(entry.machine.disconnect(), on: entry, closeWhenIdle: false)
        }
        self.perform(self.reconnection.close())
    }

    private func perform(_ actions: [ReconnectionStateMachine<SystemRandomNumberGenerator>.Action]) {
        for action in actions {
            switch action {
            case .openConnection:
                self.openEngine()
            case .closeConnection:
                self.dropEngine()
            case .scheduleReconnect(let attempt, let delay):
                self.manager?.publish(.reconnectScheduled(attempt: attempt, delayMilliseconds: delay))
                self.reconnectTimer?.cancel()
                self.reconnectTimer = self.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(delay))) { [weak self] in
                    guard let self else { return }
                    self.reconnectTimer = nil
                    self.perform(self.reconnection.timerFired())
                }
            case .cancelTimer:
                self.reconnectTimer?.cancel()
                self.reconnectTimer = nil
            case .emitReconnectAttempt(let attempt):
                self.manager?.publish(.reconnectAttempt(attempt))
            case .emitReconnect(let attempts):
                self.manager?.publish(.reconnect(attempts))
            case .emitReconnectError:
                self.manager?.publish(.reconnectError(self.lastError))
            case .emitReconnectFailed:
                self.manager?.publish(.reconnectFailed)
            case .connected:
                for entry in self.sortedEntries() {
                    self.perform(entry.machine.engineOpened(), on: entry)
                }
            }
        }
    }

    private func sortedEntries() -> [SocketEntry] {
        self.entries.values.sorted { $0.namespace < $1.namespace }
    }

    // MARK: Engine.IO connection

    private func openEngine() {
        guard let manager = self.manager else { return }
        self.dropEngine()
        self.generation += 1
        let generation = self.generation
        let engine = EngineClient(configuration: manager.engineConfiguration, eventLoop: self.eventLoop)
        engine.onEvent = { [weak self] event in
            guard let self, self.generation == generation else { return }
            self.engineEvent(event)
        }
        self.engine = engine
        self.engineIsOpen = false
        self.decoder.reset()
        self.openTimer = self.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(manager.options.timeout)) { [weak self] in
            guard let self, self.generation == generation, !self.engineIsOpen else { return }
            self.dropEngine()
            self.openFailed(.transport("timeout"))
        }
        engine.open()
    }

    /// Closes the current connection without reporting its close event.
    private func dropEngine() {
        self.generation += 1
        self.openTimer?.cancel()
        self.openTimer = nil
        self.engineIsOpen = false
        if let engine = self.engine {
            self.engine = nil
            engine.close()
        }
    }

    private func engineEvent(_ event: EngineClientEvent) {
        switch event {
        case .open:
            self.openTimer?.cancel()
            self.openTimer = nil
            self.engineIsOpen = true
            self.manager?.publish(.open)
            self.perform(self.reconnection.opened())
        case .message(let message):
            self.received(message)
        case .upgrade(let transport):
            self.manager?.publish(.upgrade(transport))
        case .close(let reason):
            let wasOpen = self.engineIsOpen
            self.engine = nil
            self.engineIsOpen = false
            self.generation += 1
            self.openTimer?.cancel()
            self.openTimer = nil
            if wasOpen {
                self.connectionLost(reason: reason.name)
            } else {
                self.openFailed(.transport(reason.error.map { "\($0)" } ?? reason.name))
            }
        }
    }

    private func connectionLost(reason: String) {
        self.manager?.publish(.close(reason: reason))
        for entry in self.sortedEntries() {
            self.perform(entry.machine.engineClosed(reason: reason), on: entry)
        }
        self.perform(self.reconnection.connectionLost())
    }

    private func openFailed(_ error: SocketClientError) {
        self.lastError = error
        self.manager?.publish(.error(error))
        for entry in self.sortedEntries() {
            self.perform(entry.machine.engineOpenFailed(error), on: entry)
        }
        self.perform(self.reconnection.openFailed())
    }

    private func received(_ message: EngineMessage) {
        let packet: SocketPacket?
        do {
            switch message {
            case .text(let text): packet = try self.decoder.decode(text: text)
            case .binary(let bytes): packet = try self.decoder.decode(binary: bytes)
            }
        } catch {
            self.manager?.logger.debug("undecodable packet", metadata: ["sio.error": "\(error)"])
            self.dropEngine()
            self.connectionLost(reason: "parse error")
            return
        }
        guard let packet, let entry = self.entries[packet.namespace] else { return }
        switch packet.type {
        case .connect:
            self.perform(entry.machine.received(connect: packet.data), on: entry)
        case .connectError:
            self.perform(entry.machine.received(connectError: packet.data), on: entry)
        case .disconnect:
            self.perform(entry.machine.receivedDisconnect(), on: entry)
        case .event, .binaryEvent:
            self.perform(entry.machine.received(event: packet), on: entry)
        case .ack, .binaryAck:
            guard let id = packet.ackId else { return }
            self.perform(entry.machine.received(ackId: id, arguments: Array(packet.arguments)), on: entry)
        }
    }

    func send(_ packet: SocketPacket) {
        guard let engine = self.engine, self.engineIsOpen else { return }
        let encoded = self.encoder.encode(packet)
        var messages: [EngineMessage] = [.text(encoded.text)]
        for attachment in encoded.attachments { messages.append(.binary(attachment)) }
        engine.send(messages)
    }

    // MARK: Sockets

    func connect(_ namespace: String) {
        guard let entry = self.entries[namespace], entry.socket != nil else { return }
        self.perform(entry.machine.connect(engineOpen: self.engineIsOpen), on: entry)
        if !self.engineIsOpen { self.perform(self.reconnection.connect()) }
    }

    func disconnect(_ namespace: String) {
        guard let entry = self.entries[namespace] else { return }
        self.perform(entry.machine.disconnect(), on: entry)
    }

    func emit(
        _ namespace: String,
        event: String,
        arguments: [JSONValue],
        callback: SocketEntry.Callback?,
        timeout: TimeAmount?,
        volatile: Bool
    ) {
        guard let entry = self.entries[namespace] else { return }
        if entry.machine.retries != nil && !volatile {
            self.perform(entry.machine.emitWithRetries(event, arguments, callback: callback), on: entry)
        } else {
            self.perform(entry.machine.emit(event, arguments, callback: callback, timeout: timeout, volatile: volatile), on: entry)
        }
    }

    func sendAck(_ namespace: String, id: Int, arguments: [JSONValue]) {
        guard let entry = self.entries[namespace], entry.machine.connected else { return }
        self.send(.ack(arguments, ackId: id, namespace: namespace))
    }

    private func perform(_ actions: [SocketEntry.Action], on entry: SocketEntry, closeWhenIdle: Bool = true) {
        for action in actions {
            switch action {
            case .sendConnect(let recovery):
                self.sendConnect(entry, recovery: recovery)
            case .send(let packet):
                self.send(packet)
                if packet.isEvent, let name = packet.eventName {
                    entry.socket?.dispatchOutgoing(name, Array(packet.arguments))
                }
            case .startAckTimer(let id, let timeout):
                entry.ackTimers[id] = self.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self, weak entry] in
                    guard let self, let entry else { return }
                    entry.ackTimers[id] = nil
                    self.perform(entry.machine.ackTimedOut(id: id), on: entry)
                }
            case .cancelAckTimer(let id):
                entry.ackTimers.removeValue(forKey: id)?.cancel()
            case .completeAck(let callback, let arguments):
                callback(.success(arguments))
            case .failAck(let callback, let error):
                callback(.failure(error))
            case .emitConnect:
                entry.socket?.update(from: entry.machine)
                entry.socket?.connectFinished(.success(()))
                entry.socket?.dispatch("connect", [])
            case .emitConnectError(let error):
                entry.socket?.update(from: entry.machine)
                entry.socket?.connectFinished(.failure(error))
                var object: JSONObject = ["message": .string(error.message)]
                if let data = error.data { object["data"] = data }
                entry.socket?.dispatch("connect_error", [.object(object)])
            case .emitDisconnect(let reason):
                entry.socket?.update(from: entry.machine)
                entry.socket?.dispatch("disconnect", [.string(reason)])
            case .deliver(let event, let arguments, let ackId):
                guard let socket = entry.socket else { break }
                socket.dispatch(event, arguments, ack: ackId.map { ClientAck(socket: socket, id: $0) })
            case .becameInactive:
                entry.socket?.update(from: entry.machine)
                if closeWhenIdle && !self.entries.values.contains(where: { $0.machine.active }) {
                    self.perform(self.reconnection.close())
                }
            }
        }
        entry.socket?.update(from: entry.machine)
        entry.retained = entry.machine.active ? entry.socket : nil
    }

    private func sendConnect(_ entry: SocketEntry, recovery: JSONObject?) {
        let namespace = entry.namespace
        let generation = self.generation
        switch entry.auth {
        case .none:
            self.sendConnect(namespace, generation: generation, auth: nil, recovery: recovery)
        case .value(let object):
            self.sendConnect(namespace, generation: generation, auth: object, recovery: recovery)
        case .provider(let provider):
            guard let manager = self.manager else { return }
            Task {
                let auth = await provider()
                manager.onLoop { core in core.sendConnect(namespace, generation: generation, auth: auth, recovery: recovery) }
            }
        }
    }

    /// Sends the CONNECT of `namespace` unless the connection changed or the socket stopped connecting meanwhile.
    private func sendConnect(_ namespace: String, generation: Int, auth: JSONObject?, recovery: JSONObject?) {
        guard let entry = self.entries[namespace], self.generation == generation, entry.machine.state == .connecting else { return }
        let payload = SocketStateMachine<SocketEntry.Callback>.connectPayload(auth: auth, recovery: recovery)
        self.send(.connect(namespace: namespace, payload: payload))
    }
}

extension SocketEntry {
    typealias Action = SocketStateMachine<Callback>.Action
}
