import EngineIOServer
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SocketIOCore

/// A Socket.IO v4 server (the `io` of Socket.IO): namespaces, sockets, rooms and broadcasts over an
/// Engine.IO server.
///
/// ```swift
/// let io = SocketIO()
/// io.on(.connection) { socket in
///     socket.on("chat") { args, ack in
///         io.emit("chat", arguments: args)
///         ack?("delivered")
///     }
/// }
/// try await io.listen(port: 3000)
/// ```
public final class SocketIO: Sendable {
    private struct DynamicNamespace: Sendable {
        let matches: @Sendable (String, JSONValue) -> Bool
        let parent: Namespace
    }

    private struct State {
        var namespaces: [String: Namespace] = [:]
        var dynamic: [DynamicNamespace] = []
        var dynamicChildren = 0
        var nextParentId = 1
        var namespaceListeners: [@Sendable (Namespace) -> Void] = []
    }

    /// The options.
    public let configuration: SocketIOServerConfiguration
    /// The Engine.IO server underneath (`io.engine`).
    public let engine: EngineServer
    /// The event loops of the server.
    public let eventLoopGroup: EventLoopGroup
    let logger: Logger
    private let state = NIOLockedValueBox(State())
    private let httpServers = NIOLockedValueBox<[HTTPServer]>([])

    /// Creates a server; `listen` (or an `HTTPServer` given `engine`) makes it reachable.
    public init(
        configuration: SocketIOServerConfiguration = SocketIOServerConfiguration(),
        eventLoopGroup: EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "socket.io")
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.engine = EngineServer(configuration: configuration.engine, logger: logger)
        self.engine.onConnection { [unowned self] session in
            session.delegate = ClientConnection(engine: session, server: self)
        }
    }

    // MARK: Namespaces

    /// The main namespace, `/`.
    public var sockets: Namespace { self.of("/") }

    /// The namespace `name`, created on first use.
    public func of(_ name: String) -> Namespace {
        let name = name.hasPrefix("/") ? name : "/" + name
        let (namespace, listeners) = self.state.withLockedValue { state -> (Namespace, [@Sendable (Namespace) -> Void]) in
            if let existing = state.namespaces[name] { return (existing, []) }
            let namespace = Namespace(name: name, server: self, parent: nil)
            state.namespaces[name] = namespace
            return (namespace, state.namespaceListeners)
        }
        for listener in listeners { listener(namespace) }
        return namespace
    }

    /// A dynamic namespace: every namespace whose name and auth `matches` accepts is created on demand as
    /// a child; handlers and middleware added to the returned parent apply to every child, and emitting on
    /// it reaches all of them.
    public func of(where matches: @escaping @Sendable (_ name: String, _ auth: JSONValue) -> Bool) -> Namespace {
        self.state.withLockedValue { state in
            let parent = Namespace(name: "/_\(state.nextParentId)", server: self, parent: nil)
            state.nextParentId += 1
            state.dynamic.append(DynamicNamespace(matches: matches, parent: parent))
            return parent
        }
    }

    /// A dynamic namespace matching a regular expression (for example `^/dyn-[a-z0-9]+$`).
    public func of(matching pattern: String) throws -> Namespace {
        let regex = SendableRegex(try Regex(pattern))
        return self.of(where: { name, _ in regex.matches(name) })
    }

    /// The namespace a CONNECT to `name` joins: an existing one, or a new child of a matching dynamic
    /// namespace (while under the limit); nil for `Invalid namespace`.
    func namespace(forConnecting name: String, auth: JSONValue) -> Namespace? {
        let (existing, dynamic) = self.state.withLockedValue { ($0.namespaces[name], $0.dynamic) }
        if let existing { return existing }
        guard let match = dynamic.first(where: { $0.matches(name, auth) }) else { return nil }
        let (child, listeners) = self.state.withLockedValue { state -> (Namespace?, [@Sendable (Namespace) -> Void]) in
            if let existing = state.namespaces[name] { return (existing, []) }
            guard state.dynamicChildren < self.configuration.maxDynamicNamespaces else {
                self.logger.warning("dynamic namespace refused: maxDynamicNamespaces reached", metadata: ["sio.nsp": "\(name)"])
                return (nil, [])
            }
            state.dynamicChildren += 1
            let child = Namespace(name: name, server: self, parent: match.parent)
            match.parent.addChild(child)
            state.namespaces[name] = child
            return (child, state.namespaceListeners)
        }
        if let child { for listener in listeners { listener(child) } }
        return child
    }

    // MARK: Instrumentation hooks

    /// Every namespace this node has (not the parents made by `of(where:)`/`of(matching:)`, but their
    /// children), in no particular order.
    public var namespaces: [Namespace] { self.state.withLockedValue { Array($0.namespaces.values) } }

    /// Calls `listener` with every namespace created from now on (by `of(_:)`, or a dynamic namespace's
    /// child on its first connection), once it exists (Node.js's `new_namespace` event). Costs nothing
    /// while no listener is set.
    public func onNewNamespace(_ listener: @escaping @Sendable (Namespace) -> Void) {
        self.state.withLockedValue { $0.namespaceListeners.append(listener) }
    }

    // MARK: The main namespace's API

    /// Handles new sockets of the main namespace.
    public func on(_ event: ServerEvent, _ handler: @escaping Namespace.ConnectionHandler) { self.sockets.on(event, handler) }
    /// Adds a middleware to the main namespace.
    public func use(_ middleware: @escaping Namespace.Middleware) { self.sockets.use(middleware) }
    /// Targets `room` of the main namespace.
    public func to(_ room: String) -> BroadcastOperator { self.sockets.to(room) }
    /// Targets several rooms of the main namespace.
    public func to(_ rooms: some Sequence<String>) -> BroadcastOperator { self.sockets.to(rooms) }
    /// Same as `to(_:)`.
    public func `in`(_ room: String) -> BroadcastOperator { self.sockets.in(room) }
    /// Same as `to(_:)`.
    public func `in`(_ rooms: some Sequence<String>) -> BroadcastOperator { self.sockets.in(rooms) }
    /// Every socket of the main namespace but those in `room`.
    public func except(_ room: String) -> BroadcastOperator { self.sockets.except(room) }
    /// Volatile broadcasts on the main namespace.
    public var volatile: BroadcastOperator { self.sockets.volatile }
    /// Node-local broadcasts on the main namespace.
    public var local: BroadcastOperator { self.sockets.local }
    /// Broadcasts with an acknowledgement deadline on the main namespace.
    public func timeout(_ timeout: Duration) -> BroadcastOperator { self.sockets.timeout(timeout) }
    /// Broadcasts with an acknowledgement deadline given as a NIO `TimeAmount`.
    @_disfavoredOverload
    public func timeout(_ timeout: TimeAmount) -> BroadcastOperator { self.sockets.timeout(timeout) }
    /// Emits to every socket of the main namespace.
    public func emit(_ event: String, _ arguments: JSONValue...) { self.sockets.emit(event, arguments: arguments) }
    /// Emits to every socket of the main namespace.
    public func emit(_ event: String, arguments: [JSONValue]) { self.sockets.emit(event, arguments: arguments) }
    /// The sockets of the main namespace, on every node.
    public func fetchSockets() async throws -> [RemoteSocket] { try await self.sockets.fetchSockets() }
    /// Makes every socket of the main namespace join `room`.
    public func socketsJoin(_ room: String) { self.sockets.socketsJoin(room) }
    /// Makes every socket of the main namespace leave `room`.
    public func socketsLeave(_ room: String) { self.sockets.socketsLeave(room) }
    /// Disconnects every socket of the main namespace.
    public func disconnectSockets(close: Bool = false) { self.sockets.disconnectSockets(close: close) }
    /// Sends an event to the main namespace of the other nodes.
    public func serverSideEmit(_ arguments: [JSONValue], timeout: Duration? = nil) async throws -> [JSONValue] {
        try await self.sockets.serverSideEmit(arguments, timeout: timeout)
    }
    /// Sends an event to the main namespace of the other nodes, with a NIO `TimeAmount` deadline.
    @_disfavoredOverload
    public func serverSideEmit(_ arguments: [JSONValue], timeout: TimeAmount?) async throws -> [JSONValue] {
        try await self.sockets.serverSideEmit(arguments, timeout: timeout)
    }

    // MARK: Serving

    /// Listens on `host:port` at once with a new HTTP server that also hands other requests to
    /// `application` (Node's `io.listen(port)`). Under ServiceLifecycle, prefer
    /// ``makeHTTPServer(host:port:application:)``, which binds when the service group runs it.
    @discardableResult
    public func listen(host: String = "127.0.0.1", port: Int = 3000, application: HTTPRequestHandler? = nil) async throws -> HTTPServer {
        try await self.listen(HTTPServer.Configuration(host: host, port: port), application: application)
    }

    /// Listens at once with a new HTTP server (TLS, backlog, ... from `configuration`) that serves the
    /// browser client at `<path>socket.io.js` and hands other requests to `application`.
    @discardableResult
    public func listen(_ configuration: HTTPServer.Configuration, application: HTTPRequestHandler? = nil) async throws -> HTTPServer {
        let server = self.makeHTTPServer(configuration, application: application)
        try await server.start()
        return server
    }

    /// A new HTTP server for this instance on `host:port`, not listening yet: a ServiceLifecycle `Service`
    /// whose `run()` binds, serves, and on graceful shutdown tells every client and drains the sessions.
    ///
    /// ```swift
    /// let server = io.makeHTTPServer(port: 3000)
    /// try await ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm], logger: logger).run()
    /// ```
    public func makeHTTPServer(host: String = "127.0.0.1", port: Int = 3000, application: HTTPRequestHandler? = nil) -> HTTPServer {
        self.makeHTTPServer(HTTPServer.Configuration(host: host, port: port), application: application)
    }

    /// A new HTTP server for this instance (TLS, backlog, ... from `configuration`), not listening yet: it
    /// binds in `run()` (a ServiceLifecycle `Service`) or `start()`, serves the browser client at
    /// `<path>socket.io.js` and hands other requests to `application`.
    public func makeHTTPServer(_ configuration: HTTPServer.Configuration, application: HTTPRequestHandler? = nil) -> HTTPServer {
        let server = HTTPServer(
            configuration: configuration,
            engine: self.engine,
            application: ClientScript.serving(at: self.configuration.engine.path, before: application),
            group: self.eventLoopGroup,
            logger: self.logger
        )
        self.httpServers.withLockedValue { $0.append(server) }
        return server
    }

    /// The HTTP handler to give an `HTTPServer` built by hand: serves the browser client at
    /// `<path>socket.io.js` and hands other requests to `application`.
    public func httpHandler(_ application: HTTPRequestHandler? = nil) -> HTTPRequestHandler {
        ClientScript.serving(at: self.configuration.engine.path, before: application)
    }

    /// Where the browser client is served (`/socket.io/socket.io.js` by default), by `httpHandler` and by
    /// the framework mounts.
    public var clientScriptPath: String { ClientScript.path(under: self.configuration.engine.path) }

    /// Closes every session with reason `server shutting down` (clients are told), then waits until they
    /// are gone or `gracePeriod` has passed: the Socket.IO part of a graceful shutdown, for servers that
    /// are not ours (framework mounts).
    public func drain(gracePeriod: Duration = .seconds(10)) async {
        await self.engine.drain(until: .now() + TimeAmount(gracePeriod))
    }

    /// Disconnects every client and stops listening.
    public func close() async throws {
        self.engine.closeAll(reason: .serverShuttingDown)
        for server in self.httpServers.withLockedValue({ $0 }) { try await server.shutdown() }
    }
}

/// A compiled regular expression shared between threads (it is immutable once built).
struct SendableRegex: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    init(_ regex: Regex<AnyRegexOutput>) { self.regex = regex }
    func matches(_ string: String) -> Bool { (try? self.regex.wholeMatch(in: string)) != nil }
}
