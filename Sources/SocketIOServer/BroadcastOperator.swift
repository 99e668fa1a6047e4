import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore

/// Selects sockets of a namespace and acts on them all: `io.to("room").except("other").emit(...)`.
public struct BroadcastOperator: Sendable {
    /// The namespace.
    public let namespace: Namespace
    /// The selection and flags.
    public var options: BroadcastOptions

    /// A selection of `namespace` by `options`.
    public init(namespace: Namespace, options: BroadcastOptions = BroadcastOptions()) {
        self.namespace = namespace
        self.options = options
    }

    private func with(_ change: (inout BroadcastOptions) -> Void) -> BroadcastOperator {
        var copy = self
        change(&copy.options)
        return copy
    }

    /// Adds `room` to the targets (sockets in any target room are reached once).
    public func to(_ room: String) -> BroadcastOperator { self.with { $0.rooms.insert(room) } }
    /// Adds every room in `rooms` to the targets.
    public func to(_ rooms: some Sequence<String>) -> BroadcastOperator { self.with { $0.rooms.formUnion(rooms) } }
    /// Same as `to(_:)`.
    public func `in`(_ room: String) -> BroadcastOperator { self.to(room) }
    /// Same as `to(_:)`.
    public func `in`(_ rooms: some Sequence<String>) -> BroadcastOperator { self.to(rooms) }
    /// Skips the sockets in `room`.
    public func except(_ room: String) -> BroadcastOperator { self.with { $0.except.insert(room) } }
    /// Skips the sockets in any of `rooms`.
    public func except(_ rooms: some Sequence<String>) -> BroadcastOperator { self.with { $0.except.formUnion(rooms) } }
    /// Drops the packet for clients that cannot take it right now.
    public var volatile: BroadcastOperator { self.with { $0.volatile = true } }
    /// Allows or forbids compression.
    public func compress(_ compress: Bool) -> BroadcastOperator { self.with { $0.compress = compress } }
    /// Only this node's sockets.
    public var local: BroadcastOperator { self.with { $0.local = true } }
    /// Sets the deadline of `emitWithAck`.
    public func timeout(_ timeout: Duration) -> BroadcastOperator { self.timeout(TimeAmount(timeout)) }
    /// Sets the deadline of `emitWithAck`, as a NIO `TimeAmount`.
    @_disfavoredOverload
    public func timeout(_ timeout: TimeAmount) -> BroadcastOperator { self.with { $0.timeout = timeout } }

    /// The namespaces reached: this one, or the children of a dynamic parent namespace.
    private var namespaces: [Namespace] {
        let children = self.namespace.children
        return children.isEmpty ? [self.namespace] : children
    }

    private var adapters: [Adapter] { self.namespaces.map(\.adapter) }

    /// Emits `event` with `arguments` to the selected sockets.
    public func emit(_ event: String, _ arguments: JSONValue...) {
        self.emit(event, arguments: arguments)
    }

    /// Emits `event` with `arguments` to the selected sockets.
    public func emit(_ event: String, arguments: [JSONValue]) {
        for namespace in self.namespaces {
            namespace.adapter.broadcast(.event(event, arguments, namespace: namespace.name), options: self.options)
        }
    }

    /// Emits `event` with `Encodable` values, one argument each (`emit("move", encoding: x, y)`).
    public func emit<each T: Encodable>(_ event: String, encoding values: repeat each T) throws {
        self.emit(event, arguments: try JSONValue.encodingEach(repeat each values, using: self.namespace.server.configuration.jsonEncoder))
    }

    /// Emits `event` to the selected sockets and collects every acknowledgement; throws
    /// `SocketIOError.ackTimeout` if some are missing when the timeout (required) expires.
    public func emitWithAck(_ event: String, _ arguments: JSONValue...) async throws -> [[JSONValue]] {
        try await self.emitWithAck(event, arguments: arguments)
    }

    /// Emits `event` to the selected sockets and collects every acknowledgement.
    public func emitWithAck(_ event: String, arguments: [JSONValue]) async throws -> [[JSONValue]] {
        let namespaces = self.namespaces
        let collector = AckCollector(expectedNodes: namespaces.count)
        let eventLoop = self.namespace.server.eventLoopGroup.any()
        return try await withCheckedThrowingContinuation { continuation in
            collector.start(continuation)
            if let timeout = self.options.timeout {
                eventLoop.scheduleTask(in: timeout) { collector.fail(.ackTimeout) }
            }
            for namespace in namespaces {
                namespace.adapter.broadcastWithAck(
                    .event(event, arguments, namespace: namespace.name),
                    options: self.options,
                    clientCount: { collector.expect($0) },
                    ack: { collector.receive($0) }
                )
            }
        }
    }

    /// The selected sockets, on every node.
    public func fetchSockets() async throws -> [RemoteSocket] {
        var result: [RemoteSocket] = []
        for namespace in self.namespaces {
            result += try await namespace.adapter.fetchSockets(self.options).map { RemoteSocket($0, namespace: namespace) }
        }
        return result
    }

    /// Makes the selected sockets join `rooms`.
    public func socketsJoin(_ rooms: Set<String>) {
        for adapter in self.adapters { adapter.addSockets(self.options, rooms: rooms) }
    }

    /// Makes the selected sockets join `room`.
    public func socketsJoin(_ room: String) { self.socketsJoin([room]) }

    /// Makes the selected sockets leave `rooms`.
    public func socketsLeave(_ rooms: Set<String>) {
        for adapter in self.adapters { adapter.delSockets(self.options, rooms: rooms) }
    }

    /// Makes the selected sockets leave `room`.
    public func socketsLeave(_ room: String) { self.socketsLeave([room]) }

    /// Disconnects the selected sockets; with `close`, closes their whole connections.
    public func disconnectSockets(close: Bool = false) {
        for adapter in self.adapters { adapter.disconnectSockets(self.options, close: close) }
    }
}

/// Gathers the acknowledgements of a broadcast: done when every node reported its client count and every
/// client answered.
final class AckCollector: Sendable {
    private struct State {
        var continuation: CheckedContinuation<[[JSONValue]], Error>?
        var nodesPending: Int
        var expected = 0
        var responses: [[JSONValue]] = []
    }

    private let state: NIOLockedValueBox<State>

    init(expectedNodes: Int) {
        self.state = NIOLockedValueBox(State(nodesPending: expectedNodes))
    }

    func start(_ continuation: CheckedContinuation<[[JSONValue]], Error>) {
        self.state.withLockedValue { $0.continuation = continuation }
    }

    func expect(_ count: Int) {
        self.update { state in
            state.expected += count
            state.nodesPending -= 1
        }
    }

    func receive(_ arguments: [JSONValue]) {
        self.update { $0.responses.append(arguments) }
    }

    func fail(_ error: SocketIOError) {
        let continuation = self.state.withLockedValue { state -> CheckedContinuation<[[JSONValue]], Error>? in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(throwing: error)
    }

    private func update(_ change: (inout State) -> Void) {
        let finished = self.state.withLockedValue { state -> (CheckedContinuation<[[JSONValue]], Error>, [[JSONValue]])? in
            change(&state)
            guard state.nodesPending <= 0, state.responses.count >= state.expected, let continuation = state.continuation else {
                return nil
            }
            state.continuation = nil
            return (continuation, state.responses)
        }
        if let (continuation, responses) = finished { continuation.resume(returning: responses) }
    }
}
