import EngineIOClient
import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A listener registration, to remove it with ``Socket/off(_:)-(ListenerToken)``.
public struct ListenerToken: Hashable, Sendable {
    let value: Int
}

/// One event received by a socket, as the asynchronous sequence of ``Socket/on(_:)`` yields it.
public struct SocketEvent: Sendable {
    /// The event name.
    public var name: String
    /// The arguments.
    public var arguments: [JSONValue]
    /// The acknowledgement the server asked for, if any.
    public var ack: ClientAck?
}

/// The acknowledgement of an event the server emitted with a callback; only the first call sends.
public final class ClientAck: Sendable {
    /// The ack id.
    public let id: Int
    private let socket: Socket
    private let used = NIOLockedValueBox(false)

    init(socket: Socket, id: Int) {
        self.socket = socket
        self.id = id
    }

    /// Sends the acknowledgement with `arguments`.
    public func callAsFunction(_ arguments: JSONValue...) {
        self.send(arguments)
    }

    /// Sends the acknowledgement with `arguments`.
    public func send(_ arguments: [JSONValue]) {
        let first = self.used.withLockedValue { used -> Bool in
            defer { used = true }
            return !used
        }
        guard first else { return }
        let namespace = self.socket.namespace
        let id = self.id
        self.socket.manager.onLoop { core in core.sendAck(namespace, id: id, arguments: arguments) }
    }

    /// Sends the acknowledgement with `Encodable` values, one argument each (encoded with the options'
    /// `jsonEncoder`).
    public func send<each T: Encodable>(encoding values: repeat each T) throws {
        self.send(try JSONValue.encodingEach(repeat each values, using: self.socket.manager.options.jsonEncoder))
    }
}

/// A Socket.IO client socket: one namespace over its ``Manager``'s connection.
///
/// Listeners run on the Manager's event loop, one event at a time, in the order the events arrived; for async
/// work, iterate ``on(_:)`` as an `AsyncSequence`. Emits may be made from anywhere: emits from one task are
/// sent in order, buffered while disconnected and sent on (re)connection (volatile ones are dropped).
///
/// A socket holds its ``manager``; see ``Manager`` for how long the Manager keeps its sockets. With connection
/// state recovery on the server, a socket whose connection is cut comes back with the same id and gets the
/// events it missed: see ``recovered``.
public final class Socket: Sendable {
    typealias Handler = @Sendable ([JSONValue], ClientAck?) -> Void

    private struct Listeners {
        var next = 0
        var byEvent: [String: [(token: Int, handler: Handler)]] = [:]
        var any: [(token: Int, handler: @Sendable (String, [JSONValue], ClientAck?) -> Void)] = []
        var anyOutgoing: [(token: Int, handler: @Sendable (String, [JSONValue]) -> Void)] = []
        var decodingErrors: [(token: Int, handler: @Sendable (EventDecodingError) -> Void)] = []
    }

    private struct Snapshot {
        var id: String?
        var connected = false
        var active = false
        var recovered = false
    }

    /// The Manager.
    public let manager: Manager
    /// The namespace.
    public let namespace: String
    let auth: SocketAuth
    private let listeners = NIOLockedValueBox(Listeners())
    private let snapshot = NIOLockedValueBox(Snapshot())
    /// The callers of `try await connect()` waiting for the outcome.
    private let connectWaiters = NIOLockedValueBox<[ConnectWaiter]>([])

    init(manager: Manager, namespace: String, auth: SocketAuth) {
        self.manager = manager
        self.namespace = namespace
        self.auth = auth
    }

    /// Connects `url`'s namespace (its path) with a new Manager.
    public static func connect(
        to url: String,
        options: SocketOptions = SocketOptions(),
        eventLoopGroup: EventLoopGroup? = nil
    ) throws -> Socket {
        let manager: Manager
        if let eventLoopGroup {
            manager = try Manager(url: url, options: options, eventLoopGroup: eventLoopGroup)
        } else {
            manager = try Manager(url: url, options: options)
        }
        let namespace = (try? EngineClientConfiguration.parse(url: url).urlPath) ?? "/"
        return manager.socket(namespace)
    }

    // MARK: State

    /// The socket id, while connected.
    public var id: String? { self.snapshot.withLockedValue { $0.id } }
    /// Whether the namespace is connected.
    public var connected: Bool { self.snapshot.withLockedValue { $0.connected } }
    /// Whether the socket wants to be connected (it reconnects with the Manager).
    public var active: Bool { self.snapshot.withLockedValue { $0.active } }
    /// Whether the last connection recovered the previous session, as the official client's `socket.recovered`.
    ///
    /// Connection state recovery, when the server has it on (`connectionStateRecovery`): the server's CONNECT
    /// answer carries a private session id (`pid`), and each event it sends without an ack id carries its
    /// offset, a string, as its last argument. The socket keeps the `pid` and the last offset of the events it
    /// handed to its listeners, and sends both (under the `auth` object's own keys) in the CONNECT of the next
    /// connection. When the server restores that session, the socket keeps its ``id`` and rooms, `recovered`
    /// is true when `connect` is emitted, and the events missed meanwhile follow, in order. After
    /// ``disconnect()``, or a disconnection longer than the server's limit, `recovered` is false: a new session.
    ///
    /// As in the official client, the offset is left in the arguments handed to the listeners (the last
    /// one): with recovery on, an event the server emits as `("message", text)` arrives as `[text, offset]`.
    public var recovered: Bool { self.snapshot.withLockedValue { $0.recovered } }

    func update<Callback>(from machine: SocketStateMachine<Callback>) {
        let snapshot = Snapshot(id: machine.id, connected: machine.connected, active: machine.active, recovered: machine.recovered)
        self.snapshot.withLockedValue { $0 = snapshot }
    }

    // MARK: Connecting

    /// Connects the namespace (opening the Manager's connection if needed) and returns once it is connected
    /// (at once if it already is).
    ///
    /// Throws the first `connect_error` as a ``SocketClientError``: the server's refusal (a middleware's
    /// error: ``SocketClientError/isConnectError``, with the server's ``SocketClientError/message`` and
    /// ``SocketClientError/data``; the socket is then inactive and the emits buffered for it fail with the
    /// same error), or the connection that could not be opened (``SocketClientError/transport(_:)``; with
    /// `reconnection` on, the Manager keeps trying: call ``disconnect()`` to stop). Throws
    /// `CancellationError` when the calling task is cancelled (the socket keeps connecting).
    public func connect() async throws {
        let waiter = ConnectWaiter()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                waiter.install(continuation)
                self.connectWaiters.withLockedValue { $0.append(waiter) }
                self.snapshot.withLockedValue { $0.active = true }
                let namespace = self.namespace
                self.manager.onLoop { core in
                    core.connect(namespace)
                    if self.connected { self.connectFinished(.success(())) }
                }
            }
        } onCancel: {
            waiter.resume(.failure(CancellationError()))
        }
    }

    /// Connects the namespace (opening the Manager's connection if needed) without waiting: `socket.open()`
    /// of the JavaScript client. Listen to ``onConnect(_:)`` and ``onConnectError(_:)`` for the outcome.
    public func open() {
        let namespace = self.namespace
        self.snapshot.withLockedValue { $0.active = true }
        self.manager.onLoop { core in core.connect(namespace) }
    }

    /// The namespace connected or failed to: resumes the callers of `try await connect()`. On the event loop.
    func connectFinished(_ result: Result<Void, SocketClientError>) {
        let waiters = self.connectWaiters.withLockedValue { waiters in
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in waiters { waiter.resume(result.mapError { $0 as Error }) }
    }

    /// Disconnects the namespace; the Manager closes when no socket is left.
    public func disconnect() {
        let namespace = self.namespace
        self.manager.onLoop { core in core.disconnect(namespace) }
    }

    // MARK: Emitting

    /// Emits an event.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        SocketEmitter(socket: self).emit(event, arguments: arguments)
    }

    /// Emits an event.
    public func emit(_ event: String, arguments: [JSONValue]) {
        SocketEmitter(socket: self).emit(event, arguments: arguments)
    }

    /// Emits an event with `Encodable` arguments, one each (encoded with the options' `jsonEncoder`):
    /// `emit("move", encoding: x, y)`.
    public func emit<each T: Encodable>(_ event: String, encoding values: repeat each T) throws {
        try SocketEmitter(socket: self).emit(event, encoding: repeat each values)
    }

    /// Emits an event and calls `ack` with the server's answer (or an error: timeout, disconnection).
    public func emit(
        _ event: String,
        arguments: [JSONValue],
        ack: @escaping @Sendable (Result<[JSONValue], SocketClientError>) -> Void
    ) {
        SocketEmitter(socket: self).emit(event, arguments: arguments, ack: ack)
    }

    /// Emits an event and waits for its acknowledgement (failing after `ackTimeout`, if set).
    public func emitWithAck(_ event: String, _ arguments: JSONValue...) async throws -> [JSONValue] {
        try await SocketEmitter(socket: self).emitWithAck(event, arguments: arguments)
    }

    /// Emits an event and waits for its acknowledgement (failing after `ackTimeout`, if set).
    public func emitWithAck(_ event: String, arguments: [JSONValue]) async throws -> [JSONValue] {
        try await SocketEmitter(socket: self).emitWithAck(event, arguments: arguments)
    }

    /// Emits an event with `Encodable` arguments and decodes the acknowledgement's first argument as `T`
    /// (with the options' `jsonEncoder` and `jsonDecoder`); see ``SocketEmitter/emitWithAck(_:encoding:as:)``.
    public func emitWithAck<each V: Encodable, T: Decodable & Sendable>(
        _ event: String,
        encoding values: repeat each V,
        as type: T.Type = T.self
    ) async throws -> T {
        try await SocketEmitter(socket: self).emitWithAck(event, encoding: repeat each values, as: type)
    }

    /// Emits an event and decodes the acknowledgement's first argument as `T`.
    public func emitWithAck<T: Decodable & Sendable>(_ event: String, arguments: [JSONValue], as type: T.Type = T.self) async throws -> T {
        try await SocketEmitter(socket: self).emitWithAck(event, arguments: arguments, as: type)
    }

    /// An emitter whose acknowledgements fail with ``SocketClientError/timeout`` after `timeout`.
    public func timeout(_ timeout: Duration) -> SocketEmitter {
        SocketEmitter(socket: self, timeout: TimeAmount(timeout))
    }

    /// An emitter whose acknowledgements fail after `timeout`, a NIO `TimeAmount`.
    @_disfavoredOverload
    public func timeout(_ timeout: TimeAmount) -> SocketEmitter {
        SocketEmitter(socket: self, timeout: timeout)
    }

    /// An emitter whose events are dropped rather than buffered when not connected.
    public var volatile: SocketEmitter {
        SocketEmitter(socket: self, volatile: true)
    }

    // MARK: Listening

    /// Calls `handler` with the arguments of every `event`, and an acknowledgement when the server asked for
    /// one. `connect`, `disconnect` (arguments: the reason) and `connect_error` (arguments: an object with
    /// `message` and `data`) are events too. With connection state recovery on the server, the arguments end
    /// with the event's offset (see ``recovered``).
    @discardableResult
    public func on(_ event: String, _ handler: @escaping @Sendable ([JSONValue], ClientAck?) -> Void) -> ListenerToken {
        self.listeners.withLockedValue { listeners in
            listeners.next += 1
            listeners.byEvent[event, default: []].append((listeners.next, handler))
            return ListenerToken(value: listeners.next)
        }
    }

    /// Calls `handler` with the arguments of every `event`.
    @discardableResult
    public func on(_ event: String, _ handler: @escaping @Sendable ([JSONValue]) -> Void) -> ListenerToken {
        self.on(event) { arguments, _ in handler(arguments) }
    }

    /// Calls `handler` with the first argument of every `event` decoded as `T` (with the options'
    /// `jsonDecoder`).
    ///
    /// An event that does not decode never reaches `handler`: it is logged at debug level, handed to the
    /// ``onDecodingError(_:)`` listeners as an `EventDecodingError`, and, when the server asked for an
    /// acknowledgement, answered with the decode-error reply `EventDecodingError.reply`
    /// (`{"error": "invalid payload", "event": …, "message": …}`, as our server answers). To handle it
    /// yourself, use ``on(_:asResult:_:)``.
    @discardableResult
    public func on<T: Decodable & Sendable>(_ event: String, as type: T.Type, _ handler: @escaping @Sendable (T) -> Void) -> ListenerToken {
        self.on(event, as: type) { value, _ in handler(value) }
    }

    /// Calls `handler` with the first argument of every `event` decoded as `T`, and the acknowledgement the
    /// server asked for, if any; undecodable events as for ``on(_:as:_:)-(_,_,(T)->Void)``.
    @discardableResult
    public func on<T: Decodable & Sendable>(_ event: String, as type: T.Type, _ handler: @escaping @Sendable (T, ClientAck?) -> Void) -> ListenerToken {
        self.on(event, asResult: type) { [unowned self] result, ack in
            switch result {
            case .success(let value): handler(value, ack)
            case .failure(let error): self.rejectUndecodable(error, ack: ack)
            }
        }
    }

    /// Calls `handler` with the first two arguments of every `event` decoded as `A` and `B`, and the
    /// acknowledgement the server asked for; undecodable events as for ``on(_:as:_:)-(_,_,(T)->Void)``.
    @discardableResult
    public func on<A: Decodable & Sendable, B: Decodable & Sendable>(
        _ event: String,
        as first: A.Type,
        _ second: B.Type,
        _ handler: @escaping @Sendable (A, B, ClientAck?) -> Void
    ) -> ListenerToken {
        let decoder = self.manager.options.jsonDecoder
        return self.on(event) { [unowned self] arguments, ack in
            switch EventDecodingError.decodeArguments(A.self, B.self, from: arguments, event: event, using: decoder) {
            case .success(let (a, b)): handler(a, b, ack)
            case .failure(let error): self.rejectUndecodable(error, ack: ack)
            }
        }
    }

    /// Calls `handler` with the first three arguments of every `event` decoded as `A`, `B` and `C`, and the
    /// acknowledgement the server asked for; undecodable events as for ``on(_:as:_:)-(_,_,(T)->Void)``.
    @discardableResult
    public func on<A: Decodable & Sendable, B: Decodable & Sendable, C: Decodable & Sendable>(
        _ event: String,
        as first: A.Type,
        _ second: B.Type,
        _ third: C.Type,
        _ handler: @escaping @Sendable (A, B, C, ClientAck?) -> Void
    ) -> ListenerToken {
        let decoder = self.manager.options.jsonDecoder
        return self.on(event) { [unowned self] arguments, ack in
            switch EventDecodingError.decodeArguments(A.self, B.self, C.self, from: arguments, event: event, using: decoder) {
            case .success(let (a, b, c)): handler(a, b, c, ack)
            case .failure(let error): self.rejectUndecodable(error, ack: ack)
            }
        }
    }

    /// Calls `handler` with the first argument of every `event` decoded as `T`, or the reason it did not
    /// decode, and the acknowledgement the server asked for: the handler answers a bad payload itself.
    @discardableResult
    public func on<T: Decodable & Sendable>(
        _ event: String,
        asResult type: T.Type,
        _ handler: @escaping @Sendable (Result<T, EventDecodingError>, ClientAck?) -> Void
    ) -> ListenerToken {
        let decoder = self.manager.options.jsonDecoder
        return self.on(event) { arguments, ack in
            handler(EventDecodingError.decode(T.self, from: arguments, event: event, using: decoder), ack)
        }
    }

    /// Calls `handler` with every event that a typed listener (``on(_:as:_:)-(_,_,(T)->Void)``) could not
    /// decode.
    @discardableResult
    public func onDecodingError(_ handler: @escaping @Sendable (EventDecodingError) -> Void) -> ListenerToken {
        self.listeners.withLockedValue { listeners in
            listeners.next += 1
            listeners.decodingErrors.append((listeners.next, handler))
            return ListenerToken(value: listeners.next)
        }
    }

    /// A typed listener's event did not decode: the server's mistake, answered with the decode-error reply.
    func rejectUndecodable(_ error: EventDecodingError, ack: ClientAck?) {
        self.manager.logger.debug(
            "event payload did not decode",
            metadata: ["sio.nsp": "\(self.namespace)", "sio.event": "\(error.event)", "error": "\(error.message)"]
        )
        ack?.send([error.reply])
        for handler in self.listeners.withLockedValue({ $0.decodingErrors.map(\.handler) }) { handler(error) }
    }

    /// The `event`s as an asynchronous sequence (ends when the iteration is cancelled).
    public func on(_ event: String) -> AsyncStream<SocketEvent> {
        let (stream, continuation) = AsyncStream<SocketEvent>.makeStream()
        let token = self.on(event) { arguments, ack in
            continuation.yield(SocketEvent(name: event, arguments: arguments, ack: ack))
        }
        continuation.onTermination = { [weak self] _ in self?.off(token) }
        return stream
    }

    /// Calls `handler` when the namespace connects.
    @discardableResult
    public func onConnect(_ handler: @escaping @Sendable () -> Void) -> ListenerToken {
        self.on("connect") { _, _ in handler() }
    }

    /// Calls `handler` with the reason of every disconnection (`io server disconnect`, `io client disconnect`,
    /// `transport close`, `transport error`, `ping timeout`, `parse error`).
    @discardableResult
    public func onDisconnect(_ handler: @escaping @Sendable (String) -> Void) -> ListenerToken {
        self.on("disconnect") { arguments, _ in handler(arguments.first?.stringValue ?? "") }
    }

    /// Calls `handler` when connecting fails: refused by the server (`message` and `data` of its CONNECT_ERROR)
    /// or the connection could not be opened.
    @discardableResult
    public func onConnectError(_ handler: @escaping @Sendable (SocketClientError) -> Void) -> ListenerToken {
        self.on("connect_error") { arguments, _ in
            let object = arguments.first
            handler(.connectError(message: object?["message"]?.stringValue ?? "", data: object?["data"]))
        }
    }

    /// Calls `handler` with every incoming event (not `connect`/`disconnect`/`connect_error`), before the
    /// event's own listeners.
    @discardableResult
    public func onAny(_ handler: @escaping @Sendable (String, [JSONValue]) -> Void) -> ListenerToken {
        self.onAny { event, arguments, _ in handler(event, arguments) }
    }

    /// Calls `handler` with every incoming event and its acknowledgement, if the server asked for one.
    @discardableResult
    public func onAny(_ handler: @escaping @Sendable (String, [JSONValue], ClientAck?) -> Void) -> ListenerToken {
        self.listeners.withLockedValue { listeners in
            listeners.next += 1
            listeners.any.append((listeners.next, handler))
            return ListenerToken(value: listeners.next)
        }
    }

    /// Calls `handler` with every event the socket sends, when it is sent.
    @discardableResult
    public func onAnyOutgoing(_ handler: @escaping @Sendable (String, [JSONValue]) -> Void) -> ListenerToken {
        self.listeners.withLockedValue { listeners in
            listeners.next += 1
            listeners.anyOutgoing.append((listeners.next, handler))
            return ListenerToken(value: listeners.next)
        }
    }

    /// Removes one listener.
    public func off(_ token: ListenerToken) {
        self.listeners.withLockedValue { listeners in
            for key in listeners.byEvent.keys { listeners.byEvent[key]?.removeAll { $0.token == token.value } }
            listeners.any.removeAll { $0.token == token.value }
            listeners.anyOutgoing.removeAll { $0.token == token.value }
            listeners.decodingErrors.removeAll { $0.token == token.value }
        }
    }

    /// Removes every listener of `event`.
    public func off(_ event: String) {
        self.listeners.withLockedValue { _ = $0.byEvent.removeValue(forKey: event) }
    }

    /// Removes every `onAny` listener.
    public func offAny() {
        self.listeners.withLockedValue { $0.any.removeAll() }
    }

    /// Removes every `onAnyOutgoing` listener.
    public func offAnyOutgoing() {
        self.listeners.withLockedValue { $0.anyOutgoing.removeAll() }
    }

    // MARK: Dispatch (on the event loop)

    static let reservedEvents: Set<String> = ["connect", "disconnect", "connect_error"]

    func dispatch(_ event: String, _ arguments: [JSONValue], ack: ClientAck? = nil) {
        let (any, handlers) = self.listeners.withLockedValue { listeners in
            (Self.reservedEvents.contains(event) ? [] : listeners.any.map(\.handler), listeners.byEvent[event]?.map(\.handler) ?? [])
        }
        for handler in any { handler(event, arguments, ack) }
        for handler in handlers { handler(arguments, ack) }
    }

    func dispatchOutgoing(_ event: String, _ arguments: [JSONValue]) {
        let handlers = self.listeners.withLockedValue { $0.anyOutgoing.map(\.handler) }
        for handler in handlers { handler(event, arguments) }
    }
}

/// Emits with flags: `socket.timeout(.seconds(5)).emitWithAck(...)`, `socket.volatile.emit(...)`.
public struct SocketEmitter: Sendable {
    let socket: Socket
    var timeoutAmount: TimeAmount?
    var isVolatile = false

    init(socket: Socket, timeout: TimeAmount? = nil, volatile: Bool = false) {
        self.socket = socket
        self.timeoutAmount = timeout
        self.isVolatile = volatile
    }

    /// The same emitter with a timeout.
    public func timeout(_ timeout: Duration) -> SocketEmitter {
        self.timeout(TimeAmount(timeout))
    }

    /// The same emitter with a timeout given as a NIO `TimeAmount`.
    @_disfavoredOverload
    public func timeout(_ timeout: TimeAmount) -> SocketEmitter {
        var copy = self
        copy.timeoutAmount = timeout
        return copy
    }

    /// The same emitter, volatile.
    public var volatile: SocketEmitter {
        var copy = self
        copy.isVolatile = true
        return copy
    }

    /// Emits an event.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        self.emit(event, arguments: arguments)
    }

    /// Emits an event.
    public func emit(_ event: String, arguments: [JSONValue]) {
        self.send(event, arguments, callback: nil)
    }

    /// Emits an event and calls `ack` with the answer or the error.
    public func emit(
        _ event: String,
        arguments: [JSONValue],
        ack: @escaping @Sendable (Result<[JSONValue], SocketClientError>) -> Void
    ) {
        self.send(event, arguments, callback: ack)
    }

    /// Emits an event and waits for its acknowledgement; throws ``SocketClientError/timeout`` after the timeout.
    public func emitWithAck(_ event: String, _ arguments: JSONValue...) async throws -> [JSONValue] {
        try await self.emitWithAck(event, arguments: arguments)
    }

    /// Emits an event and waits for its acknowledgement; throws ``SocketClientError/timeout`` after the timeout.
    public func emitWithAck(_ event: String, arguments: [JSONValue]) async throws -> [JSONValue] {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[JSONValue], Error>) in
            self.send(event, arguments) { result in
                continuation.resume(with: result.mapError { $0 as Error })
            }
        }
    }

    /// Emits an event with `Encodable` arguments, one each.
    public func emit<each T: Encodable>(_ event: String, encoding values: repeat each T) throws {
        self.emit(event, arguments: try JSONValue.encodingEach(repeat each values, using: self.socket.manager.options.jsonEncoder))
    }

    /// Emits an event with `Encodable` arguments, one each, and decodes the first argument of its
    /// acknowledgement as `T` (with the options' `jsonEncoder` and `jsonDecoder`).
    ///
    /// Throws as ``emitWithAck(_:arguments:)`` does; when the answer does not decode,
    /// ``SocketClientError/payloadRejected(_:)`` if it is the decode-error reply of a server that could not
    /// decode the payload (``SocketClientError/data`` holds the reply), else the `EventDecodingError`.
    public func emitWithAck<each V: Encodable, T: Decodable & Sendable>(
        _ event: String,
        encoding values: repeat each V,
        as type: T.Type = T.self
    ) async throws -> T {
        let arguments = try JSONValue.encodingEach(repeat each values, using: self.socket.manager.options.jsonEncoder)
        return try await self.emitWithAck(event, arguments: arguments, as: type)
    }

    /// Emits an event and decodes the first argument of its acknowledgement as `T`; throws as
    /// ``emitWithAck(_:encoding:as:)``.
    public func emitWithAck<T: Decodable & Sendable>(_ event: String, arguments: [JSONValue], as type: T.Type = T.self) async throws -> T {
        let answer = try await self.emitWithAck(event, arguments: arguments)
        switch EventDecodingError.decode(T.self, from: answer, event: event, using: self.socket.manager.options.jsonDecoder) {
        case .success(let value):
            return value
        case .failure(let error):
            if let reply = answer.first, reply["error"]?.stringValue == EventDecodingError.replyError {
                throw SocketClientError.payloadRejected(reply)
            }
            throw error
        }
    }

    private func send(
        _ event: String,
        _ arguments: [JSONValue],
        callback: (@Sendable (Result<[JSONValue], SocketClientError>) -> Void)?
    ) {
        let namespace = self.socket.namespace
        let timeout = self.timeoutAmount
        let volatile = self.isVolatile
        self.socket.manager.onLoop { core in
            core.emit(
                namespace,
                event: event,
                arguments: arguments,
                callback: callback.map { callback in { result in callback(result) } },
                timeout: timeout,
                volatile: volatile
            )
        }
    }
}
