import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore

/// A communication channel multiplexed over client connections (`io.of("/admin")`): its own sockets,
/// connection handlers, middleware, rooms and broadcasts.
public final class Namespace: Sendable {
    /// Handles a new socket; runs before any of the socket's events.
    public typealias ConnectionHandler = @Sendable (Socket) async -> Void
    /// Runs before a socket connects; throw `ConnectionRefused` (or any error) to refuse it.
    public typealias Middleware = @Sendable (Socket) async throws -> Void

    private struct State {
        var sockets = SocketRegistry<Socket>()
        var connectionHandlers: [ConnectionHandler] = []
        var firstConnectionHandlers: [@Sendable (Socket) -> Void] = []
        var middlewares: [Middleware] = []
        var children: [Namespace] = []
        var serverSideHandlers: [ServerSideHandler] = []
        var nextAckId = 0
        /// The event names of recent sockets' handler tables (see `sharedEventNames(_:)`), a few at most.
        var eventNameTables: [[String]] = []
    }

    /// The namespace's name (`/`, `/admin`, ...).
    public let name: String
    /// The server.
    public unowned let server: SocketIO
    /// The dynamic namespace this one was created from, if any.
    public let parent: Namespace?
    private let state = NIOLockedValueBox(State())
    private let adapterBox = NIOLockedValueBox<Adapter?>(nil)
    /// The in-memory room table of this namespace (the adapter, or the local part of a cluster adapter).
    private let roomTable = NIOLockedValueBox<WeakInMemoryAdapter>(WeakInMemoryAdapter())
    /// How many sockets have `onAnyOutgoing` listeners (broadcasts tell them only when some do).
    private let outgoingListenerSockets = NIOLockedValueBox(0)

    init(name: String, server: SocketIO, parent: Namespace?) {
        self.name = name
        self.server = server
        self.parent = parent
        let adapter = server.configuration.adapter(self)
        self.adapterBox.withLockedValue { $0 = adapter }
    }

    /// The adapter that keeps this namespace's rooms.
    public var adapter: Adapter { self.adapterBox.withLockedValue { $0! } }

    /// The connected sockets of this node, by id.
    public var sockets: [String: Socket] { self.state.withLockedValue { $0.sockets.dictionary } }

    /// How many sockets of this node are connected (without copying the socket table).
    public var socketsCount: Int { self.state.withLockedValue { $0.sockets.count } }

    /// The connected socket `id` of this node, if any (without copying the socket table).
    public func socket(withID id: String) -> Socket? { self.state.withLockedValue { $0.sockets[id] } }

    /// The namespaces created from this dynamic namespace.
    public var children: [Namespace] { self.state.withLockedValue { $0.children } }

    // MARK: Handlers

    /// An array equal to `names` that other sockets of this namespace hold already, when they registered
    /// the same events in the same order (the usual case: one connection handler registers them all), so
    /// that the names are stored once rather than per socket; otherwise `names` trimmed, kept for the
    /// next sockets.
    func sharedEventNames(_ names: [String]) -> [String] {
        self.state.withLockedValue { state in
            if let index = state.eventNameTables.firstIndex(of: names) {
                return state.eventNameTables[index]
            }
            var trimmed = names
            trimmed.trimCapacity()
            if state.eventNameTables.count == Self.eventNameTablesKept { state.eventNameTables.removeFirst() }
            state.eventNameTables.append(trimmed)
            return trimmed
        }
    }

    /// How many distinct event name tables a namespace keeps for sharing.
    private static let eventNameTablesKept = 4

    /// Handles events sent by other nodes with `serverSideEmit`: the arguments (event name first) and, when
    /// the sender waits for answers, the callback to answer with.
    public typealias ServerSideHandler = @Sendable (_ arguments: [JSONValue], _ ack: (@Sendable ([JSONValue]) -> Void)?) -> Void

    /// Handles events other nodes send with `serverSideEmit` (`io.on("event")` in Socket.IO).
    public func onServerSideEmit(_ handler: @escaping ServerSideHandler) {
        self.state.withLockedValue { $0.serverSideHandlers.append(handler) }
    }

    /// Called by an adapter when another node's `serverSideEmit` arrives.
    public func receiveServerSideEmit(_ arguments: [JSONValue], ack: (@Sendable ([JSONValue]) -> Void)?) {
        for handler in self.state.withLockedValue({ $0.serverSideHandlers }) { handler(arguments, ack) }
    }

    /// Handles new sockets.
    public func on(_ event: ServerEvent, _ handler: @escaping ConnectionHandler) {
        self.state.withLockedValue { $0.connectionHandlers.append(handler) }
    }

    /// Handles new sockets before every other connection handler, including a dynamic parent's (Node.js's
    /// `prependListener("connection")`): instrumentation that must see the socket first. The handler is
    /// synchronous and runs on the connection's event loop right after the CONNECT answer (nothing, not even
    /// a transport upgrade, happens in between); it must not block.
    public func prependListener(_ event: ServerEvent, _ handler: @escaping @Sendable (Socket) -> Void) {
        self.state.withLockedValue { $0.firstConnectionHandlers.insert(handler, at: 0) }
    }

    /// Calls `listener` when a socket of this node really joins or leaves a room of this namespace
    /// (Node.js's adapter events `join-room` and `leave-room`; the socket's own room included), after the
    /// change. Reported by the in-memory room table (`InMemoryAdapter`, also inside the Redis adapters);
    /// costs nothing while no listener is set.
    public func onRoomChange(_ listener: @escaping @Sendable (RoomChange) -> Void) {
        self.roomTable.withLockedValue { $0.adapter }?.addRoomListener(listener)
    }

    /// Whether some socket of this node has `onAnyOutgoing` listeners (one lock read per broadcast).
    var hasOutgoingListeners: Bool { self.outgoingListenerSockets.withLockedValue { $0 > 0 } }

    func outgoingListenersChanged(by delta: Int) {
        self.outgoingListenerSockets.withLockedValue { $0 += delta }
    }

    /// Called by an `InMemoryAdapter` made for this namespace.
    func register(roomTable adapter: InMemoryAdapter) {
        self.roomTable.withLockedValue { $0.adapter = adapter }
    }

    /// Adds a middleware, run in order for every socket before it connects.
    public func use(_ middleware: @escaping Middleware) {
        self.state.withLockedValue { $0.middlewares.append(middleware) }
    }

    // MARK: Broadcasting

    /// Every socket of the namespace.
    public var all: BroadcastOperator { BroadcastOperator(namespace: self) }
    /// Targets `room`.
    public func to(_ room: String) -> BroadcastOperator { self.all.to(room) }
    /// Targets every room in `rooms`.
    public func to(_ rooms: some Sequence<String>) -> BroadcastOperator { self.all.to(rooms) }
    /// Same as `to(_:)`.
    public func `in`(_ room: String) -> BroadcastOperator { self.all.to(room) }
    /// Same as `to(_:)`.
    public func `in`(_ rooms: some Sequence<String>) -> BroadcastOperator { self.all.to(rooms) }
    /// Every socket but those in `room`.
    public func except(_ room: String) -> BroadcastOperator { self.all.except(room) }
    /// Drops the packet for clients that cannot take it right now.
    public var volatile: BroadcastOperator { self.all.volatile }
    /// Only this node's sockets.
    public var local: BroadcastOperator { self.all.local }
    /// Allows or forbids compression.
    public func compress(_ compress: Bool) -> BroadcastOperator { self.all.compress(compress) }
    /// Sets the deadline of `emitWithAck`.
    public func timeout(_ timeout: Duration) -> BroadcastOperator { self.all.timeout(timeout) }
    /// Sets the deadline of `emitWithAck`, as a NIO `TimeAmount`.
    @_disfavoredOverload
    public func timeout(_ timeout: TimeAmount) -> BroadcastOperator { self.all.timeout(timeout) }

    /// Emits `event` to every socket of the namespace.
    public func emit(_ event: String, _ arguments: JSONValue...) { self.all.emit(event, arguments: arguments) }
    /// Emits `event` to every socket of the namespace.
    public func emit(_ event: String, arguments: [JSONValue]) { self.all.emit(event, arguments: arguments) }
    /// Emits `event` with `Encodable` values, one argument each (`emit("move", encoding: x, y)`) to every socket of the namespace.
    public func emit<each T: Encodable>(_ event: String, encoding values: repeat each T) throws { try self.all.emit(event, encoding: repeat each values) }
    /// Every socket of the namespace, on every node.
    public func fetchSockets() async throws -> [RemoteSocket] { try await self.all.fetchSockets() }
    /// Makes every socket join `room`.
    public func socketsJoin(_ room: String) { self.all.socketsJoin(room) }
    /// Makes every socket leave `room`.
    public func socketsLeave(_ room: String) { self.all.socketsLeave(room) }
    /// Disconnects every socket.
    public func disconnectSockets(close: Bool = false) { self.all.disconnectSockets(close: close) }
    /// Sends an event to this namespace on the other nodes; waits for their acknowledgements with `timeout`.
    public func serverSideEmit(_ arguments: [JSONValue], timeout: Duration? = nil) async throws -> [JSONValue] {
        try await self.serverSideEmit(arguments, timeout: timeout.map { TimeAmount($0) })
    }

    /// Sends an event to this namespace on the other nodes, with a NIO `TimeAmount` deadline.
    @_disfavoredOverload
    public func serverSideEmit(_ arguments: [JSONValue], timeout: TimeAmount?) async throws -> [JSONValue] {
        try await self.adapter.serverSideEmit(arguments, timeout: timeout.map { $0.nanoseconds / 1_000_000 })
    }

    // MARK: Internals

    func nextAckId() -> Int {
        self.state.withLockedValue { state in
            defer { state.nextAckId += 1 }
            return state.nextAckId
        }
    }

    func addChild(_ child: Namespace) {
        self.state.withLockedValue { $0.children.append(child) }
    }

    /// The local sockets with these ids (those still connected).
    func localSockets(_ ids: [String]) -> [Socket] {
        self.state.withLockedValue { state in
            var result: [Socket] = []
            result.reserveCapacity(ids.count)
            for id in ids { if let socket = state.sockets[id] { result.append(socket) } }
            return result
        }
    }

    /// Every local socket in connection order, but those whose id is in `excluded`.
    func localSockets(excluding excluded: Set<String>) -> [Socket] {
        self.state.withLockedValue { $0.sockets.inOrder(excluding: excluded) }
    }

    /// The middlewares to run for a new socket: a dynamic parent's first.
    var allMiddlewares: [Middleware] {
        (self.parent?.allMiddlewares ?? []) + self.state.withLockedValue { $0.middlewares }
    }

    /// The connection handlers of a new socket: a dynamic parent's first.
    var allConnectionHandlers: [ConnectionHandler] {
        (self.parent?.allConnectionHandlers ?? []) + self.state.withLockedValue { $0.connectionHandlers }
    }

    /// The `prependListener` handlers of a new socket: this namespace's, then a dynamic parent's.
    var firstConnectionHandlers: [@Sendable (Socket) -> Void] {
        let own = self.state.withLockedValue { $0.firstConnectionHandlers }
        guard let parent = self.parent else { return own }
        return own + parent.firstConnectionHandlers
    }

    func add(_ socket: Socket) {
        self.state.withLockedValue { $0.sockets.add(socket) }
    }

    func remove(_ socket: Socket) {
        self.state.withLockedValue { $0.sockets.remove(socket) }
    }
}

/// A socket joined or left a room (`Namespace.onRoomChange`).
public enum RoomChange: Sendable, Equatable {
    /// The socket `id` joined `room`.
    case joined(room: String, id: String)
    /// The socket `id` left `room`.
    case left(room: String, id: String)
}

private struct WeakInMemoryAdapter {
    weak var adapter: InMemoryAdapter?
}

/// Server-level events.
public enum ServerEvent: Sendable {
    /// A socket connected.
    case connection
}
