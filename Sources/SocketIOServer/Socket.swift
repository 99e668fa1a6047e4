import EngineIOServer
import Logging
import NIOCore
import SocketIOCore

/// A client connected to one namespace (Socket.IO's server-side `Socket`).
///
/// Safe to use from any thread. Incoming events reach the handlers one at a time, in arrival order;
/// handlers may be synchronous (run at once on the event loop) or `async` (run in order on one task per
/// burst of events; no task exists while the socket is idle).
public final class Socket: Sendable {
    /// Handles an incoming event: its arguments (without the event name) and, when the client asked for
    /// one, the acknowledgement to call.
    public typealias EventHandler = @Sendable (_ arguments: [JSONValue], _ ack: SocketAck?) async throws -> Void
    /// A synchronous event handler; it runs on the socket's event loop and must not block.
    public typealias SyncEventHandler = @Sendable (_ arguments: [JSONValue], _ ack: SocketAck?) -> Void
    /// Sees every incoming (or outgoing) event: its name and arguments.
    public typealias AnyHandler = @Sendable (_ event: String, _ arguments: [JSONValue]) -> Void
    /// A per-packet middleware: throw to reject the event (the error reaches the socket's error handlers).
    public typealias Middleware = @Sendable (_ event: String, _ arguments: [JSONValue]) async throws -> Void
    /// A synchronous per-packet middleware; it runs on the event loop and must not block.
    public typealias SyncMiddleware = @Sendable (_ event: String, _ arguments: [JSONValue]) throws -> Void

    enum StoredMiddleware: Sendable {
        case sync(SyncMiddleware)
        case async(Middleware)
    }

    enum Handler: Sendable {
        case sync(SyncEventHandler)
        case async(EventHandler)
    }

    struct PendingAck: Sendable {
        let callback: @Sendable (Result<[JSONValue], SocketIOError>) -> Void
        var timeout: Scheduled<Void>?
    }

    private struct State {
        var connected = false
        /// The events handled, in registration order, and their handlers (`handlers[i]` handles
        /// `eventNames[i]`): flat lists are smaller than a dictionary of lists for the handful of events a
        /// socket usually has, and are scanned without hashing. Once the connection handlers are done, the
        /// names are those of the namespace's other sockets when they match (one array shared between them,
        /// copied on write if this socket's handlers change).
        var eventNames: [String] = []
        var handlers: [Handler] = []
        var anyHandlers: [(ListenerID, AnyHandler)] = []
        var outgoingHandlers: [(ListenerID, AnyHandler)] = []
        var middlewares: [StoredMiddleware] = []
        var errorHandlers: [@Sendable (Error) -> Void] = []
        var disconnectingHandlers: [@Sendable (DisconnectReason) async -> Void] = []
        var disconnectHandlers: [@Sendable (DisconnectReason) async -> Void] = []
        var acks: [Int: PendingAck] = [:]
        var nextListenerID = 0
        var data: JSONValue = .null
        /// Instrumentation: `onDataChange` and `onTransportUpgrade` listeners (usually none).
        var dataListeners: [@Sendable (JSONValue) -> Void] = []
        var upgradeListeners: [@Sendable () -> Void] = []
    }

    /// The socket's id: unique, unguessable, and the name of a room the socket is always in.
    public let id: String
    /// The namespace the socket belongs to.
    public let namespace: Namespace
    /// Whether this socket is a recovered one (connection state recovery): same id, rooms and `data` as
    /// before the client's connection dropped, and the packets it missed were sent after its CONNECT answer.
    public let recovered: Bool
    /// The private session id (connection state recovery on), told to this client only.
    let pid: String?
    /// The CONNECT packet's auth.
    private let auth: JSONValue
    /// When the socket connected, in milliseconds since 1970.
    private let issued: Int64

    /// The request that opened the connection, and the CONNECT packet's auth (built when asked for, from
    /// the Engine.IO session's request: nothing copied per socket).
    public var handshake: SocketHandshake {
        SocketHandshake(engine: self.connection.engine.handshake, auth: self.auth, issued: self.issued)
    }
    let connection: ClientConnection
    /// The event loop of the socket's connection (where its writes happen).
    let eventLoop: EventLoop
    /// Runs the socket's handlers in order; the socket's `State` lives under the executor's lock.
    private let executor: OrderedExecutor<State>
    /// The server's logger with the socket's id and namespace (made when logging: no copy per socket).
    private var logger: Logger {
        var logger = self.namespace.server.logger
        logger[metadataKey: "sio.sid"] = "\(self.id)"
        logger[metadataKey: "sio.nsp"] = "\(self.namespace.name)"
        return logger
    }

    init(id: String, namespace: Namespace, connection: ClientConnection, auth: JSONValue, issued: Int64, pid: String? = nil, restored: PersistedSession? = nil) {
        self.id = restored?.sid ?? id
        self.pid = restored?.pid ?? pid
        self.recovered = restored != nil
        self.namespace = namespace
        self.connection = connection
        self.eventLoop = connection.eventLoop
        var state = State()
        if let restored { state.data = restored.data }
        self.executor = OrderedExecutor(eventLoop: connection.eventLoop, shared: state)
        self.auth = auth
        self.issued = issued
    }

    /// The underlying Engine.IO session (Socket.IO's `socket.conn`).
    public var conn: EngineSocket { self.connection.engine }

    /// Whether the socket is connected.
    public var connected: Bool { self.executor.withLockedShared { $0.connected } }

    /// The rooms the socket is in (always including its own id while connected).
    public var rooms: Set<String> { self.namespace.adapter.socketRooms(self.id) ?? [] }

    /// Free-form data attached to the socket (`socket.data`), visible to `fetchSockets` on every node.
    public var data: JSONValue {
        get { self.executor.withLockedShared { $0.data } }
        set { self.modifyData { $0 = newValue } }
    }

    /// Changes `data` in place under the socket's lock (no other change in between), then tells the
    /// `onDataChange` listeners.
    func modifyData<Result>(_ change: (inout JSONValue) throws -> Result) rethrows -> Result {
        let (result, value, listeners) = try self.executor.withLockedShared { state in
            (try change(&state.data), state.data, state.dataListeners)
        }
        for listener in listeners { listener(value) }
        return result
    }

    // MARK: Instrumentation hooks

    /// Calls `listener` with the new value every time `data` is set (after the change).
    public func onDataChange(_ listener: @escaping @Sendable (JSONValue) -> Void) {
        self.executor.withLockedShared { $0.dataListeners.append(listener) }
    }

    /// Calls `listener` when the connection moves from long-polling to WebSocket (on the connection's event
    /// loop; `conn.transportName` is then `.websocket`).
    public func onTransportUpgrade(_ listener: @escaping @Sendable () -> Void) {
        self.executor.withLockedShared { $0.upgradeListeners.append(listener) }
    }

    /// The connection moved to WebSocket; on its event loop.
    func transportUpgraded() {
        for listener in self.executor.withLockedShared({ $0.upgradeListeners }) { listener() }
    }

    // MARK: Listening

    /// Handles the event `event` with a synchronous handler (run on the event loop).
    public func on(_ event: String, _ handler: @escaping SyncEventHandler) {
        self.executor.withLockedShared { state in
            state.eventNames.append(event)
            state.handlers.append(.sync(handler))
        }
    }

    /// Handles the event `event` with an asynchronous handler; events still run one at a time, in order.
    public func on(_ event: String, _ handler: @escaping EventHandler) {
        self.executor.withLockedShared { state in
            state.eventNames.append(event)
            state.handlers.append(.async(handler))
        }
    }

    /// Handles the event `event`, decoding its first argument as `T` (with the server's
    /// `configuration.jsonDecoder`).
    ///
    /// A payload that does not decode never reaches `handler`: it is the client's mistake, so it is logged at
    /// debug level, answered (when the client asked for an acknowledgement) with the decode-error reply
    /// `EventDecodingError.reply` (`{"error": "invalid payload", "event": …, "message": …}`), and handed to
    /// the socket's ``onError(_:)`` handlers as an `EventDecodingError`. To answer it yourself, use
    /// ``on(_:asResult:_:)``.
    public func on<T: Decodable & Sendable>(_ event: String, as type: T.Type, _ handler: @escaping @Sendable (T, SocketAck?) async throws -> Void) {
        self.on(event, asResult: type) { [unowned self] result, ack in
            switch result {
            case .success(let value): try await handler(value, ack)
            case .failure(let error): self.rejectUndecodable(error, ack: ack)
            }
        }
    }

    /// Handles the event `event` with its first argument decoded as `T`, or the reason it did not decode
    /// (socketioxide's `TryData`): the handler answers a bad payload itself; nothing is logged or sent for it.
    ///
    /// ```swift
    /// socket.on("bid", asResult: Bid.self) { result, ack in
    ///     switch result {
    ///     case .success(let bid): ack?(["accepted": true])
    ///     case .failure(let error): ack?(["accepted": false, "why": "\(error.message)"])
    ///     }
    /// }
    /// ```
    public func on<T: Decodable & Sendable>(
        _ event: String,
        asResult type: T.Type,
        _ handler: @escaping @Sendable (Result<T, EventDecodingError>, SocketAck?) async throws -> Void
    ) {
        let decoder = self.namespace.server.configuration.jsonDecoder
        self.on(event) { (arguments: [JSONValue], ack: SocketAck?) async throws in
            try await handler(EventDecodingError.decode(T.self, from: arguments, event: event, using: decoder), ack)
        }
    }

    /// Handles the event `event`, decoding its first two arguments as `A` and `B` (`socket.emit("move", x, y)`
    /// from a client); a payload that does not decode is answered as ``on(_:as:_:)`` answers it.
    public func on<A: Decodable & Sendable, B: Decodable & Sendable>(
        _ event: String,
        as first: A.Type,
        _ second: B.Type,
        _ handler: @escaping @Sendable (A, B, SocketAck?) async throws -> Void
    ) {
        let decoder = self.namespace.server.configuration.jsonDecoder
        self.on(event) { [unowned self] (arguments: [JSONValue], ack: SocketAck?) async throws in
            switch EventDecodingError.decodeArguments(A.self, B.self, from: arguments, event: event, using: decoder) {
            case .success(let (a, b)): try await handler(a, b, ack)
            case .failure(let error): self.rejectUndecodable(error, ack: ack)
            }
        }
    }

    /// Handles the event `event`, decoding its first three arguments as `A`, `B` and `C`; a payload that
    /// does not decode is answered as ``on(_:as:_:)`` answers it.
    public func on<A: Decodable & Sendable, B: Decodable & Sendable, C: Decodable & Sendable>(
        _ event: String,
        as first: A.Type,
        _ second: B.Type,
        _ third: C.Type,
        _ handler: @escaping @Sendable (A, B, C, SocketAck?) async throws -> Void
    ) {
        let decoder = self.namespace.server.configuration.jsonDecoder
        self.on(event) { [unowned self] (arguments: [JSONValue], ack: SocketAck?) async throws in
            switch EventDecodingError.decodeArguments(A.self, B.self, C.self, from: arguments, event: event, using: decoder) {
            case .success(let (a, b, c)): try await handler(a, b, c, ack)
            case .failure(let error): self.rejectUndecodable(error, ack: ack)
            }
        }
    }

    /// A typed handler's payload did not decode: the client's mistake, answered with the decode-error reply.
    func rejectUndecodable(_ error: EventDecodingError, ack: SocketAck?) {
        self.logger.debug(
            "event payload did not decode; answered with the decode-error reply",
            metadata: ["sio.event": "\(error.event)", "error": "\(error.message)", "sio.acked": "\(ack != nil)"]
        )
        ack?.send([error.reply])
        self.reportError(error)
    }

    /// Removes every handler of `event`.
    public func off(_ event: String) {
        self.executor.withLockedShared { state in
            var index = state.eventNames.startIndex
            while index < state.eventNames.endIndex {
                if state.eventNames[index] == event {
                    state.eventNames.remove(at: index)
                    state.handlers.remove(at: index)
                } else {
                    index += 1
                }
            }
        }
    }

    /// Adds a listener called with every incoming event, before the event's own handlers.
    @discardableResult
    public func onAny(_ handler: @escaping AnyHandler) -> ListenerID {
        self.executor.withLockedShared { state in
            let id = ListenerID(value: state.nextListenerID)
            state.nextListenerID += 1
            state.anyHandlers.append((id, handler))
            return id
        }
    }

    /// Adds a catch-all listener in front of the others.
    @discardableResult
    public func prependAny(_ handler: @escaping AnyHandler) -> ListenerID {
        self.executor.withLockedShared { state in
            let id = ListenerID(value: state.nextListenerID)
            state.nextListenerID += 1
            state.anyHandlers.insert((id, handler), at: 0)
            return id
        }
    }

    /// Removes one catch-all listener, or all of them when `id` is nil.
    public func offAny(_ id: ListenerID? = nil) {
        self.executor.withLockedShared { state in
            if let id { state.anyHandlers.removeAll { $0.0 == id } } else { state.anyHandlers.removeAll() }
        }
    }

    /// Adds a listener called with every event this socket emits.
    @discardableResult
    public func onAnyOutgoing(_ handler: @escaping AnyHandler) -> ListenerID {
        let (id, first) = self.executor.withLockedShared { state in
            let id = ListenerID(value: state.nextListenerID)
            state.nextListenerID += 1
            state.outgoingHandlers.append((id, handler))
            return (id, state.outgoingHandlers.count == 1)
        }
        if first { self.namespace.outgoingListenersChanged(by: 1) }
        return id
    }

    /// Removes one outgoing listener, or all of them when `id` is nil.
    public func offAnyOutgoing(_ id: ListenerID? = nil) {
        let last = self.executor.withLockedShared { state in
            let had = !state.outgoingHandlers.isEmpty
            if let id { state.outgoingHandlers.removeAll { $0.0 == id } } else { state.outgoingHandlers.removeAll() }
            return had && state.outgoingHandlers.isEmpty
        }
        if last { self.namespace.outgoingListenersChanged(by: -1) }
    }

    /// Adds a per-packet middleware, run in order before the handlers of every incoming event.
    public func use(_ middleware: @escaping Middleware) {
        self.executor.withLockedShared { $0.middlewares.append(.async(middleware)) }
    }

    /// Adds a synchronous per-packet middleware (run on the event loop, no task needed).
    public func use(_ middleware: @escaping SyncMiddleware) {
        self.executor.withLockedShared { $0.middlewares.append(.sync(middleware)) }
    }

    /// Handles errors of this socket, such as events rejected by a middleware.
    public func onError(_ handler: @escaping @Sendable (Error) -> Void) {
        self.executor.withLockedShared { $0.errorHandlers.append(handler) }
    }

    /// Called when the socket is about to leave its rooms on disconnection (`socket.rooms` still set).
    public func onDisconnecting(_ handler: @escaping @Sendable (DisconnectReason) async -> Void) {
        self.executor.withLockedShared { $0.disconnectingHandlers.append(handler) }
    }

    /// Called once the socket has disconnected.
    public func onDisconnect(_ handler: @escaping @Sendable (DisconnectReason) async -> Void) {
        self.executor.withLockedShared { $0.disconnectHandlers.append(handler) }
    }

    // MARK: Emitting

    /// Emits `event` with `arguments` to this client.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        SocketEmitter(socket: self).emit(event, arguments: arguments)
    }

    /// Emits `event` with `arguments` to this client.
    public func emit(_ event: String, arguments: [JSONValue]) {
        SocketEmitter(socket: self).emit(event, arguments: arguments)
    }

    /// Emits `event` with `Encodable` values, one argument each (`emit("move", encoding: x, y)`).
    public func emit<each T: Encodable>(_ event: String, encoding values: repeat each T) throws {
        try SocketEmitter(socket: self).emit(event, encoding: repeat each values)
    }

    /// Emits `event` and calls `ack` with the client's answer (or an error if the socket disconnects).
    public func emit(_ event: String, arguments: [JSONValue], ack: @escaping @Sendable (Result<[JSONValue], SocketIOError>) -> Void) {
        SocketEmitter(socket: self).emit(event, arguments: arguments, ack: ack)
    }

    /// Emits `event` and waits for the client's acknowledgement (forever, unless `timeout(_:)` is used).
    public func emitWithAck(_ event: String, _ arguments: JSONValue...) async throws -> [JSONValue] {
        try await SocketEmitter(socket: self).emitWithAck(event, arguments: arguments)
    }

    /// Emits with an acknowledgement deadline: `try await socket.timeout(.seconds(5)).emitWithAck(...)`.
    public func timeout(_ timeout: Duration) -> SocketEmitter {
        SocketEmitter(socket: self, timeout: TimeAmount(timeout))
    }

    /// Emits with an acknowledgement deadline given as a NIO `TimeAmount`.
    @_disfavoredOverload
    public func timeout(_ timeout: TimeAmount) -> SocketEmitter {
        SocketEmitter(socket: self, timeout: timeout)
    }

    /// Emits that are dropped if the client cannot take them right now.
    public var volatile: SocketEmitter { SocketEmitter(socket: self, volatile: true) }

    /// Emits with permessage-deflate allowed or not.
    public func compress(_ compress: Bool) -> SocketEmitter { SocketEmitter(socket: self, compress: compress) }

    // MARK: Rooms and broadcasting

    /// Joins `room`.
    public func join(_ room: String) {
        self.join([room])
    }

    /// Joins every room in `rooms`.
    public func join(_ rooms: Set<String>) {
        guard self.connected else { return }
        self.namespace.adapter.addAll(self.id, rooms: rooms)
    }

    /// Leaves `room`.
    public func leave(_ room: String) {
        self.namespace.adapter.del(self.id, room: room)
    }

    /// Broadcasts to every socket of the namespace but this one.
    public var broadcast: BroadcastOperator { BroadcastOperator(namespace: self.namespace, options: BroadcastOptions(except: [self.id])) }

    /// Broadcasts to `room`, without this socket.
    public func to(_ room: String) -> BroadcastOperator { self.broadcast.to(room) }

    /// Broadcasts to every room in `rooms`, without this socket.
    public func to(_ rooms: some Sequence<String>) -> BroadcastOperator { self.broadcast.to(rooms) }

    /// Same as `to(_:)`.
    public func `in`(_ room: String) -> BroadcastOperator { self.broadcast.to(room) }

    /// Broadcasts to every socket but this one and those in `room`.
    public func except(_ room: String) -> BroadcastOperator { self.broadcast.except(room) }

    // MARK: Disconnecting

    /// Disconnects this socket from its namespace; with `close`, closes the whole connection (every
    /// namespace of this client).
    public func disconnect(close: Bool = false) {
        let connection = self.connection
        connection.eventLoop.executeOrRun {
            if close {
                connection.disconnectAll()
            } else {
                self.sendPacket(.disconnect(namespace: self.namespace.name))
                self.closed(reason: .serverNamespaceDisconnect)
            }
        }
    }

    // MARK: Internals

    /// Marks the socket connected, joins its own room (and a recovered socket's rooms) and tells the client.
    func connect(rooms: Set<String> = []) {
        self.executor.withLockedShared { $0.connected = true }
        SocketIOMetrics.sockets.increment()
        self.namespace.adapter.addAll(self.id, rooms: rooms.union(CollectionOfOne(self.id)))
        self.sendPacket(.connect(namespace: self.namespace.name, sid: self.id, pid: self.pid))
    }

    /// Runs the connection handlers in this socket's order, before any of its events.
    func runConnectionHandlers(_ handlers: [@Sendable (Socket) async -> Void]) {
        guard !handlers.isEmpty else {
            self.compactHandlerTable()
            return
        }
        self.executor.submit {
            {
                for handler in handlers { await handler(self) }
                self.compactHandlerTable()
            }
        }
    }

    /// The connection handlers registered this socket's handlers: its tables are trimmed to their size,
    /// and the event names shared with the namespace's sockets that registered the same events.
    private func compactHandlerTable() {
        let names = self.executor.withLockedShared { state -> [String] in
            state.handlers.trimCapacity()
            return state.eventNames
        }
        guard !names.isEmpty else { return }
        let shared = self.namespace.sharedEventNames(names)
        self.executor.withLockedShared { state in
            // unless handlers changed meanwhile (from another thread)
            if state.eventNames == shared { state.eventNames = shared }
        }
    }

    /// Encodes and sends one packet to this client.
    func sendPacket(_ packet: SocketPacket) {
        self.connection.send(packet)
    }

    /// Writes an encoded packet shared by a broadcast. Called on the connection's event loop. `publisher`
    /// is the connection whose handler sent it, held back by flow control if this client is congested.
    func deliver(_ encoded: EncodedMessages, volatile: Bool, publisher: ClientConnection? = nil) {
        if volatile && !self.connection.engine.isWritable {
            SocketIOMetrics.volatileDropped.increment()
            return
        }
        self.connection.send(encoded.frames)
        if let publisher { self.connection.checkCongestion(publisher: publisher) }
    }

    func notifyOutgoing(_ event: String, _ arguments: [JSONValue]) {
        let listeners = self.executor.withLockedShared { $0.outgoingHandlers }
        for (_, listener) in listeners { listener(event, arguments) }
    }

    var hasOutgoingListeners: Bool { self.executor.withLockedShared { !$0.outgoingHandlers.isEmpty } }

    /// Registers an acknowledgement callback for ack id `id`, with an optional deadline.
    func expectAck(id: Int, timeout: TimeAmount? = nil, callback: @escaping @Sendable (Result<[JSONValue], SocketIOError>) -> Void) {
        var pending = PendingAck(callback: callback, timeout: nil)
        if let timeout {
            pending.timeout = self.connection.eventLoop.scheduleTask(in: timeout) { [self] in
                let expired = self.executor.withLockedShared { $0.acks.removeValue(forKey: id) }
                expired?.callback(.failure(.ackTimeout))
            }
        }
        self.executor.withLockedShared { $0.acks[id] = pending }
    }

    /// Registers a broadcast acknowledgement (one answer per socket, no deadline of its own).
    func expectAck(id: Int, callback: @escaping @Sendable ([JSONValue]) -> Void) {
        self.expectAck(id: id, timeout: nil) { result in
            if case .success(let arguments) = result { callback(arguments) }
        }
    }

    /// A packet for this socket, on the connection's event loop.
    func receive(_ packet: consuming SocketPacket) {
        switch packet.type {
        case .event, .binaryEvent:
            self.receiveEvent(packet)
        case .ack, .binaryAck:
            guard let id = packet.ackId else { return }
            guard let pending = self.executor.withLockedShared({ $0.acks.removeValue(forKey: id) }) else {
                self.logger.debug("ack for an unknown id ignored", metadata: ["sio.ack": "\(id)"])
                return
            }
            pending.timeout?.cancel()
            pending.callback(.success(packet.data?.arrayValue ?? []))
        case .disconnect:
            self.closed(reason: .clientNamespaceDisconnect)
        case .connect, .connectError:
            break
        }
    }

    private func receiveEvent(_ packet: consuming SocketPacket) {
        guard let event = packet.eventName else { return }
        let ack = packet.ackId.map { SocketAck(id: $0, socket: self) }
        // The arguments are the payload without its first element: taken out of the packet (which this
        // method owns) so that the array is shifted in place rather than copied.
        let arguments: [JSONValue]
        if case .array(var array)? = packet.data.take() {
            array.removeFirst()
            arguments = array
        } else {
            arguments = []
        }
        // An idle socket (the usual case) runs the event at once, without a job closure.
        if self.executor.claimIfIdle() {
            self.executor.finishClaimed(self.dispatchAsPublisher(event, arguments, ack))
        } else {
            self.executor.submit { [self] in self.dispatchAsPublisher(event, arguments, ack) }
        }
    }

    /// Dispatches an event with flow control's publisher set to this socket's connection.
    private func dispatchAsPublisher(_ event: String, _ arguments: [JSONValue], _ ack: SocketAck?) -> (@Sendable () async -> Void)? {
        guard self.connection.flowControlled else { return self.dispatch(event, arguments, ack) }
        let connection = self.connection
        guard let remainder = PublishingConnection.withPublisher(connection, { self.dispatch(event, arguments, ack) }) else {
            return nil
        }
        return { await PublishingConnection.withPublisher(connection) { await remainder() } }
    }

    /// Runs the middlewares and handlers of one event: at once when they are all synchronous (returns nil),
    /// else returns the asynchronous work.
    private func dispatch(_ event: String, _ arguments: [JSONValue], _ ack: SocketAck?) -> (@Sendable () async -> Void)? {
        let (middlewares, anyHandlers, names, table) = self.executor.withLockedShared { state in
            (state.middlewares, state.anyHandlers, state.eventNames, state.handlers)
        }
        // Names of another length are skipped without a string comparison (a call per name otherwise).
        let length = event.utf8.count
        var allSync = middlewares.allSatisfy { if case .sync = $0 { return true } else { return false } }
        if allSync {
            for index in names.indices where names[index].utf8.count == length && names[index] == event {
                if case .async = table[index] {
                    allSync = false
                    break
                }
            }
        }
        if allSync {
            for case .sync(let middleware) in middlewares {
                do {
                    try middleware(event, arguments)
                } catch {
                    SocketIOMetrics.rejectedEvents.increment()
                    self.reportError(error)
                    return nil
                }
            }
            for (_, listener) in anyHandlers { listener(event, arguments) }
            for index in names.indices where names[index].utf8.count == length && names[index] == event {
                if case .sync(let handler) = table[index] { handler(arguments, ack) }
            }
            return nil
        }
        let handlerList = names.indices.filter { names[$0].utf8.count == length && names[$0] == event }.map { table[$0] }
        return {
            for middleware in middlewares {
                do {
                    switch middleware {
                    case .sync(let middleware): try middleware(event, arguments)
                    case .async(let middleware): try await middleware(event, arguments)
                    }
                } catch {
                    SocketIOMetrics.rejectedEvents.increment()
                    self.reportError(error)
                    return
                }
            }
            for (_, listener) in anyHandlers { listener(event, arguments) }
            for handler in handlerList {
                switch handler {
                case .sync(let handler):
                    handler(arguments, ack)
                case .async(let handler):
                    do {
                        try await handler(arguments, ack)
                    } catch {
                        self.logger.error("event handler failed", metadata: ["sio.event": "\(event)", "error": "\(error)"])
                        self.reportError(error)
                    }
                }
            }
        }
    }

    /// Drops every handler once the socket is gone: handlers usually capture the socket itself, a cycle
    /// that would otherwise keep every disconnected socket (and its connection) alive.
    private func forgetHandlers() {
        self.offAnyOutgoing()
        self.executor.withLockedShared { state in
            state.eventNames.removeAll()
            state.handlers.removeAll()
            state.anyHandlers.removeAll()
            state.middlewares.removeAll()
            state.errorHandlers.removeAll()
            state.disconnectingHandlers.removeAll()
            state.disconnectHandlers.removeAll()
            state.dataListeners.removeAll()
            state.upgradeListeners.removeAll()
        }
    }

    private func reportError(_ error: Error) {
        let handlers = self.executor.withLockedShared { $0.errorHandlers }
        if handlers.isEmpty { self.logger.debug("unhandled socket error", metadata: ["error": "\(error)"]) }
        for handler in handlers { handler(error) }
    }

    /// The socket is gone (from its side, ours or the connection's); on the connection's event loop.
    func closed(reason: DisconnectReason) {
        let (wasConnected, acks) = self.executor.withLockedShared { state -> (Bool, [PendingAck]) in
            let wasConnected = state.connected
            state.connected = false
            let acks = Array(state.acks.values)
            state.acks.removeAll()
            return (wasConnected, acks)
        }
        guard wasConnected else { return }
        SocketIOMetrics.sockets.decrement()
        self.namespace.remove(self)
        self.connection.remove(self)
        for pending in acks {
            pending.timeout?.cancel()
            pending.callback(.failure(.disconnected))
        }
        self.logger.debug("socket disconnected", metadata: ["sio.reason": "\(reason)"])
        let persist = self.pid != nil && reason.isRecoverable
        self.executor.submit { [self] in
            let (disconnecting, disconnect) = self.executor.withLockedShared { ($0.disconnectingHandlers, $0.disconnectHandlers) }
            if disconnecting.isEmpty && disconnect.isEmpty {
                self.leaveRooms(persistingSession: persist)
                self.forgetHandlers()
                return nil
            }
            return {
                for handler in disconnecting { await handler(reason) }
                self.leaveRooms(persistingSession: persist)
                for handler in disconnect { await handler(reason) }
                self.forgetHandlers()
            }
        }
    }

    /// Leaves every room; with connection state recovery, keeps the session (rooms as they were, `data`)
    /// for the recovery window. Kept only once the rooms are left, so that a recovered socket with the
    /// same id never has its rooms removed by this one's cleanup.
    private func leaveRooms(persistingSession persist: Bool) {
        let adapter = self.namespace.adapter
        guard persist, let pid = self.pid else {
            adapter.delAll(self.id)
            return
        }
        let rooms = adapter.socketRooms(self.id) ?? [self.id]
        adapter.delAll(self.id)
        adapter.persistSession(PersistedSession(sid: self.id, pid: pid, rooms: rooms, data: self.data))
    }
}

extension Socket: Identifiable {}
