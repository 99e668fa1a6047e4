import EngineIOCore
import EngineIOServer
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore
import SocketIOServer

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server side of the official Socket.IO Admin UI (`@socket.io/admin-ui` 0.5): the hosted page at
/// https://admin.socket.io (or its `ui/dist` served by you), unchanged, shows and manages this server.
///
/// ```swift
/// let io = SocketIO(configuration: SocketIOServerConfiguration(engine: EngineServerConfiguration(
///     cors: CORSConfiguration(origin: .list(["https://admin.socket.io"]), credentials: true))))
/// try AdminUI.instrument(io, AdminUIOptions(auth: .basic(username: "admin", passwordHash: "$2b$10$...")))
/// ```
///
/// The admin namespace (`/admin`) speaks the official protocol: `config`, `server_stats` every 2 seconds,
/// and in development mode `all_sockets`, `socket_connected`, `socket_updated`, `socket_disconnected`,
/// `room_joined`, `room_left`, `event_received` and `event_sent`; the page's actions `emit`, `join`,
/// `leave` and `_disconnect` unless read-only. With a Redis adapter, every node's statistics reach the
/// page (the admin namespace's emits cross nodes), so give each node its own `serverId`.
public final class AdminUI: Sendable {
    /// The admin namespace.
    public let namespace: Namespace
    /// The options.
    public let options: AdminUIOptions
    /// What the page may do (`config.supportedFeatures`).
    public let supportedFeatures: [String]
    /// This node's id in `server_stats`.
    public let serverId: String

    private let io: SocketIO
    private let events = AdminEventBuffer()
    private let hostname: String
    private let processStart: Date
    private let statsTask = NIOLockedValueBox<RepeatedTask?>(nil)
    /// Session ids made by the authentication middleware, told to their sockets once connected.
    private let newSessions = NIOLockedValueBox<[String: String]>([:])
    /// The namespaces whose sockets are watched (development mode).
    private let watched = NIOLockedValueBox<Set<String>>([])

    private init(io: SocketIO, options: AdminUIOptions) {
        self.io = io
        self.options = options
        self.namespace = io.of(options.namespaceName)
        self.hostname = Self.hostname()
        self.serverId = options.serverId ?? self.hostname
        self.processStart = Date().addingTimeInterval(-Self.processUptime())
        var features: [String] = options.readonly ? [] : ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"]
        features.append("AGGREGATED_EVENTS")
        if options.mode == .development { features.append("ALL_EVENTS") }
        self.supportedFeatures = features
    }

    /// Instruments `io`: creates the admin namespace with its authentication, counts the engine's
    /// traffic, watches every namespace (development mode) and starts sending `server_stats`. Throws
    /// `AdminUIError.invalidPasswordHash` when basic authentication's hash is not a bcrypt hash.
    @discardableResult
    public static func instrument(_ io: SocketIO, _ options: AdminUIOptions) throws -> AdminUI {
        if case .basic(_, let hash) = options.auth, BCrypt.cost(of: hash) == nil { throw AdminUIError.invalidPasswordHash }
        let admin = AdminUI(io: io, options: options)
        admin.installAuthentication()
        admin.installAdminHandlers()
        io.engine.trafficObserver = admin.events
        if options.mode == .development {
            io.onNewNamespace { [admin] namespace in admin.watch(namespace) }
            for namespace in io.namespaces { admin.watch(namespace) }
        }
        admin.startStats()
        return admin
    }

    /// Stops the statistics and the traffic counts (the admin namespace stays).
    public func stop() {
        self.statsTask.withLockedValue { $0 }?.cancel()
        if self.io.engine.trafficObserver === self.events { self.io.engine.trafficObserver = nil }
    }

    // MARK: Authentication

    private func installAuthentication() {
        guard case .basic(let username, let hash) = self.options.auth else { return }
        let store = self.options.store
        self.namespace.use { [self] socket in
            let auth = socket.handshake.auth
            if let sessionId = auth["sessionId"]?.stringValue, !sessionId.isEmpty, (try? await store.sessionExists(sessionId)) == true {
                return
            }
            if auth["username"]?.stringValue == username, let password = auth["password"]?.stringValue,
                BCrypt.verify(password, hash: hash)
            {
                let sessionId = Self.randomSessionId()
                try? await store.saveSession(sessionId)
                self.newSessions.withLockedValue { $0[socket.id] = sessionId }
                // forgotten if the socket never connects (its client left during the check)
                let socketId = socket.id
                self.io.eventLoopGroup.any().scheduleTask(in: .seconds(60)) { [weak self] in
                    _ = self?.newSessions.withLockedValue { $0.removeValue(forKey: socketId) }
                }
                return
            }
            throw ConnectionRefused("invalid credentials")
        }
    }

    /// 8 random bytes in hex, as the official server makes them.
    static func randomSessionId() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<8).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }

    // MARK: The page's socket

    private func installAdminHandlers() {
        let features = JSONValue.array(self.supportedFeatures.map { .string($0) })
        self.namespace.on(.connection) { [self] socket in
            if let sessionId = self.newSessions.withLockedValue({ $0.removeValue(forKey: socket.id) }) {
                socket.emit("session", .string(sessionId))
            }
            if !self.options.readonly { self.installActions(on: socket) }
            socket.emit("config", ["supportedFeatures": features])
            if self.options.mode == .development {
                socket.emit("all_sockets", .array(await self.allSockets()))
            }
        }
    }

    /// The page's actions; the filter is a room (a socket id being a room too) or absent for all.
    private func installActions(on socket: Socket) {
        let io = self.io
        @Sendable func target(_ arguments: [JSONValue], nsp: Int, filter: Int) -> BroadcastOperator? {
            guard let name = arguments.count > nsp ? arguments[nsp].stringValue : nil else { return nil }
            let namespace = io.of(name)
            if arguments.count > filter, let room = arguments[filter].stringValue, !room.isEmpty { return namespace.in(room) }
            return namespace.all
        }
        socket.on("emit") { arguments, _ in
            guard arguments.count >= 3, let event = arguments[2].stringValue, let target = target(arguments, nsp: 0, filter: 1) else { return }
            target.emit(event, arguments: Array(arguments.dropFirst(3)))
        }
        socket.on("join") { arguments, _ in
            guard let room = arguments.count > 1 ? arguments[1].stringValue : nil, let target = target(arguments, nsp: 0, filter: 2) else { return }
            target.socketsJoin(room)
        }
        socket.on("leave") { arguments, _ in
            guard let room = arguments.count > 1 ? arguments[1].stringValue : nil, let target = target(arguments, nsp: 0, filter: 2) else { return }
            target.socketsLeave(room)
        }
        socket.on("_disconnect") { arguments, _ in
            guard let target = target(arguments, nsp: 0, filter: 2) else { return }
            target.disconnectSockets(close: arguments.count > 1 ? arguments[1].boolValue ?? false : false)
        }
    }

    /// Every socket of every namespace, on every node.
    private func allSockets() async -> [JSONValue] {
        var all: [JSONValue] = []
        for namespace in self.io.namespaces {
            guard let sockets = try? await namespace.fetchSockets() else { continue }
            for socket in sockets {
                all.append(Self.serialize(id: socket.id, nsp: namespace.name, handshake: socket.handshake, rooms: socket.rooms, data: socket.data))
            }
        }
        return all
    }

    // MARK: Statistics

    private func startStats() {
        let task = self.io.eventLoopGroup.any().scheduleRepeatedTask(initialDelay: .zero, delay: TimeAmount(self.options.statsInterval)) { [weak self] task in
            guard let self else { return task.cancel() }
            self.emitStats()
        }
        self.statsTask.withLockedValue { $0 = task }
    }

    private func emitStats() {
        let namespaces = self.io.namespaces.sorted { $0.name < $1.name }.map { namespace -> JSONValue in
            ["name": .string(namespace.name), "socketsCount": .int(namespace.socketsCount)]
        }
        let stats: JSONValue = [
            "serverId": .string(self.serverId),
            "hostname": .string(self.hostname),
            "pid": .int(Int(getpid())),
            "uptime": .double(Date().timeIntervalSince(self.processStart)),
            "clientsCount": .int(self.io.engine.clientsCount),
            "pollingClientsCount": .int(self.events.pollingClientsCount),
            "aggregatedEvents": self.events.takeValues(),
            "namespaces": .array(namespaces),
        ]
        self.namespace.emit("server_stats", stats)
    }

    // MARK: Watching sockets (development mode)

    private func watch(_ namespace: Namespace) {
        guard self.watched.withLockedValue({ $0.insert(namespace.name).inserted }) else { return }
        let admin = self.namespace
        let name = JSONValue.string(namespace.name)
        let isAdmin = namespace === admin
        namespace.prependListener(.connection) { [self] socket in
            self.socketConnected(socket, namespace: name, watchEvents: !isAdmin)
        }
        namespace.onRoomChange { change in
            switch change {
            case .joined(let room, let id): admin.emit("room_joined", name, .string(room), .string(id), Self.now())
            case .left(let room, let id): admin.emit("room_left", name, .string(room), .string(id), Self.now())
            }
        }
    }

    /// A socket connected (on its connection's event loop, before its other handlers).
    private func socketConnected(_ socket: Socket, namespace name: JSONValue, watchEvents: Bool) {
        let admin = self.namespace
        let id = JSONValue.string(socket.id)
        let tag = SocketTag(clientId: String(socket.conn.id.prefix(12)))
        let earlier = Self.withoutAdmin(socket.data).objectValue ?? JSONObject()  // from a middleware or a recovery
        tag.set(transport: socket.conn.transportName, on: socket)
        // Node.js's proxy takes over each key set before the connection: one update per key, before socket_connected
        var announced = JSONObject()
        for (key, value) in earlier {
            announced[key] = value
            admin.emit("socket_updated", ["id": id, "nsp": name, "data": .object(announced)])
        }
        socket.onTransportUpgrade {
            tag.set(transport: .websocket, on: socket)
            admin.emit("socket_updated", ["id": id, "nsp": name, "transport": "websocket"])
        }
        socket.onDataChange { data in
            guard !tag.isWriting else { return }
            if data["_admin"] == nil, data.objectValue != nil || data.isNull {
                // replaced by the application: the admin's part is put back (it travels with fetchSockets)
                tag.set(transport: nil, on: socket)
            }
            admin.emit("socket_updated", ["id": id, "nsp": name, "data": Self.withoutAdmin(data)])
        }
        admin.emit(
            "socket_connected",
            Self.serialize(id: socket.id, nsp: socket.namespace.name, handshake: socket.handshake.json, rooms: socket.rooms, data: socket.data),
            Self.now()
        )
        if watchEvents {
            socket.onAny { event, arguments in
                admin.emit("event_received", name, id, .array([.string(event)] + arguments), Self.now())
            }
            socket.onAnyOutgoing { event, arguments in
                admin.emit("event_sent", name, id, .array([.string(event)] + arguments), Self.now())
            }
        }
        socket.onDisconnect { reason in
            admin.emit("socket_disconnected", name, id, .string(reason.name), Self.now())
        }
    }

    // MARK: Serialization

    /// A socket as the page reads it (the official server's `serialize`).
    static func serialize(id: String, nsp: String, handshake: JSONValue, rooms: Set<String>, data: JSONValue) -> JSONValue {
        let headers = handshake["headers"] ?? .object(JSONObject())
        let address = headers["cf-connecting-ip"] ?? headers["x-forwarded-for"] ?? handshake["address"] ?? .null
        var time = handshake["time"] ?? .null
        if let issued = handshake["issued"]?.intValue { time = .string(Self.jsDateString(milliseconds: Int64(issued))) }
        let fields: [(String, JSONValue)] = [
            ("address", address), ("headers", headers), ("query", handshake["query"] ?? .object(JSONObject())),
            ("issued", handshake["issued"] ?? .null), ("secure", handshake["secure"] ?? .null), ("time", time),
            ("url", handshake["url"] ?? .null), ("xdomain", handshake["xdomain"] ?? .null),
        ]
        let handshakeObject = JSONObject(fields)
        var object = JSONObject()
        _ = object.updateValue(.string(id), forKey: "id")
        if let clientId = data["_admin"]?["clientId"] { _ = object.updateValue(clientId, forKey: "clientId") }
        if let transport = data["_admin"]?["transport"] { _ = object.updateValue(transport, forKey: "transport") }
        _ = object.updateValue(.string(nsp), forKey: "nsp")
        _ = object.updateValue(Self.withoutAdmin(data), forKey: "data")
        _ = object.updateValue(.object(handshakeObject), forKey: "handshake")
        // the socket's own room first, as Node.js lists it
        let ordered = rooms.sorted { ($0 == id ? 0 : 1, $0) < ($1 == id ? 0 : 1, $1) }
        _ = object.updateValue(.array(ordered.map { .string($0) }), forKey: "rooms")
        return .object(object)
    }

    /// `socket.data` without the admin's own `_admin` entry.
    static func withoutAdmin(_ data: JSONValue) -> JSONValue {
        guard var object = data.objectValue else { return data.isNull ? .object(JSONObject()) : data }
        _ = object.removeValue(forKey: "_admin")
        return .object(object)
    }

    /// Now, as a JavaScript `Date` serializes (`2026-01-02T03:04:05.678Z`).
    static func now() -> JSONValue { .string(self.jsDate(Date())) }

    static func jsDate(_ date: Date) -> String {
        let (parts, millis) = self.utc(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis
        )
    }

    /// A time as JavaScript's `Date.toString()` writes it in UTC (`Thu Jan 01 1970 00:00:00 GMT+0000
    /// (Coordinated Universal Time)`): the handshake's `time`, as a Node.js server sends it.
    static func jsDateString(milliseconds: Int64) -> String {
        let (parts, _) = self.utc(milliseconds: milliseconds)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return String(
            format: "%@ %@ %02d %04d %02d:%02d:%02d GMT+0000 (Coordinated Universal Time)",
            days[Int(parts.tm_wday)], months[Int(parts.tm_mon)], Int(parts.tm_mday), Int(parts.tm_year) + 1900,
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)
        )
    }

    /// The UTC calendar fields and the milliseconds of a time in milliseconds since 1970.
    private static func utc(milliseconds: Int64) -> (tm, Int) {
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return (parts, Int(milliseconds - Int64(seconds) * 1000))
    }

    // MARK: Process

    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Seconds since the process started (Linux's /proc; 0 elsewhere: counted from instrumentation).
    static func processUptime() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
            let close = stat.lastIndex(of: ")"),
            let systemUptime = uptime.split(separator: " ").first.flatMap({ Double($0) })
        else { return 0 }
        let fields = stat[close...].split(separator: " ")
        // fields[0] is ")", fields[1] the state (field 3): the start time (field 22) is fields[20]
        guard fields.count > 20, let startTicks = Double(fields[20]) else { return 0 }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return max(0, systemUptime - startTicks / ticks)
    }
}

/// What the admin keeps in a watched socket's `data._admin` (so that `fetchSockets` on any node carries
/// it): the client's id (first 12 characters of the Engine.IO id) and its transport.
private final class SocketTag: Sendable {
    let clientId: String
    private let state = NIOLockedValueBox<(transport: EngineTransport, writing: Bool)>((.polling, false))

    init(clientId: String) { self.clientId = clientId }

    /// Whether the tag itself is writing `data` (its change is not the application's).
    var isWriting: Bool { self.state.withLockedValue { $0.writing } }

    /// Writes `_admin` into the socket's data (with `transport`, or the last one when nil).
    func set(transport: EngineTransport?, on socket: Socket) {
        let current = self.state.withLockedValue { state -> EngineTransport in
            if let transport { state.transport = transport }
            state.writing = true
            return state.transport
        }
        var object = socket.data.objectValue ?? JSONObject()
        _ = object.updateValue(["clientId": .string(self.clientId), "transport": .string(current.rawValue)], forKey: "_admin")
        socket.data = .object(object)
        self.state.withLockedValue { $0.writing = false }
    }
}
