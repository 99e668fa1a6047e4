import Logging
import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore
import SocketIOAdapter
import SocketIOCore

/// An adapter that joins the nodes of a cluster through Redis pub/sub, wire-compatible with Node.js's
/// `@socket.io/redis-adapter` v8 (default, non-sharded mode): Swift and Node.js nodes can share a cluster.
///
/// Rooms and local delivery are an `InMemoryAdapter`'s; broadcasts are also published for the other
/// nodes (unless `local`), and requests that need answers (`fetchSockets`, `serverSideEmit` with acks,
/// broadcasts with acks, `allRooms`) go over the request/response channels with a timeout. When Redis is
/// unreachable, local delivery goes on, cross-node traffic is dropped (never queued), and the clients
/// reconnect with backoff. Create adapters with `RedisAdapterFactory`.
public final class RedisAdapter: Adapter {
    /// A broadcast with acks this node sent: where the other nodes' counts and acks go.
    private struct AckRequest {
        var clientCount: ClientCountAggregator
        var ack: @Sendable ([JSONValue]) -> Void
    }

    private struct State {
        var ackRequests: [String: AckRequest] = [:]
    }

    /// The namespace.
    public unowned let namespace: any AdapterNamespace
    /// This node's id in the cluster (6 random characters, like the Node.js adapter's).
    public let uid: String
    /// The channel names.
    public let channels: RedisAdapterChannels
    /// The rooms and local sockets.
    public let local: any LocalAdapter
    private let factory: RedisAdapterFactory
    private let state = NIOLockedValueBox(State())
    /// Requests waiting for the other nodes' answers (bounded: past 10,000, new ones fail at once).
    private let requests = PendingRequests()
    private var logger: Logger { self.factory.logger }
    private var publisher: RedisClient { self.factory.publisher }

    init(namespace: any AdapterNamespace, factory: RedisAdapterFactory) {
        self.namespace = namespace
        self.factory = factory
        self.uid = Self.randomId()
        self.channels = RedisAdapterChannels(key: factory.options.key, namespace: namespace.name)
        self.local = namespace.makeLocalAdapter(keepsRecoveryLog: true)
    }

    /// 6 characters of [A-Za-z0-9], like `uid2(6)`.
    static func randomId() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var generator = SystemRandomNumberGenerator()
        return String(decoding: (0..<6).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] }, as: UTF8.self)
    }

    // MARK: Rooms (local)

    public func addAll(_ id: String, rooms: Set<String>) { self.local.addAll(id, rooms: rooms) }
    public func del(_ id: String, room: String) { self.local.del(id, room: room) }
    public func delAll(_ id: String) { self.local.delAll(id) }
    public func socketRooms(_ id: String) -> Set<String>? { self.local.socketRooms(id) }
    public var rooms: [String: Set<String>] { self.local.rooms }

    // MARK: Broadcasting

    public func broadcast(_ packet: SocketPacket, options: BroadcastOptions) {
        var packet = packet
        packet.namespace = self.namespace.name
        // A socket's own room is on one node only: an emit to a local socket (how `socket.emit` travels with
        // connection state recovery on) need not reach the others.
        if !options.local && !self.isLocalSocketRoom(options) {
            let message = RedisAdapterMessage.encodeBroadcast(uid: self.uid, packet: packet, options: options)
            self.publish(self.channels.broadcastChannel(rooms: options.rooms), message)
        }
        self.local.broadcast(packet, options: options)
    }

    private func isLocalSocketRoom(_ options: BroadcastOptions) -> Bool {
        guard options.rooms.count == 1, let room = options.rooms.first else { return false }
        return self.namespace.hasLocalSocket(withID: room)
    }

    // MARK: Connection state recovery (this node's packets and sessions: a client recovers on the node it left)

    public func persistSession(_ session: PersistedSession) { self.local.persistSession(session) }

    public func restoreSession(pid: String, offset: String) async throws -> RestoredSession? {
        try await self.local.restoreSession(pid: pid, offset: offset)
    }

    public func broadcastWithAck(
        _ packet: SocketPacket,
        options: BroadcastOptions,
        clientCount: @escaping @Sendable (Int) -> Void,
        ack: @escaping @Sendable ([JSONValue]) -> Void
    ) {
        var packet = packet
        packet.namespace = self.namespace.name
        packet.ackId = nil
        let aggregator = ClientCountAggregator(report: clientCount)
        if options.local {
            aggregator.expectNodes(1)
        } else {
            let requestId = Self.randomId()
            self.state.withLockedValue { $0.ackRequests[requestId] = AckRequest(clientCount: aggregator, ack: ack) }
            let request = RedisAdapterMessage.msgpack([
                "uid": .string(self.uid),
                "requestId": .string(requestId),
                "type": .int(RedisRequestType.broadcast.rawValue),
                "packet": RedisAdapterMessage.packetObject(packet),
                "opts": RedisAdapterMessage.optionsObject(options),
            ])
            // How many nodes will report a client count: the subscribers of the request channel.
            self.publisher.numberOfSubscribers(self.channels.request).whenComplete { result in
                aggregator.expectNodes(max(1, (try? result.get()) ?? 1))
            }
            self.publish(self.channels.request, request)
            // Like the Node.js adapter: forget the request once the broadcast's timeout has passed.
            let timeout = options.timeout ?? TimeAmount(self.factory.options.requestsTimeout)
            self.publisher.eventLoopForTimers.scheduleTask(in: timeout) { [weak self] in
                _ = self?.state.withLockedValue { $0.ackRequests.removeValue(forKey: requestId) }
            }
        }
        self.local.broadcastWithAck(packet, options: options, clientCount: { aggregator.add($0) }, ack: ack)
    }

    // MARK: Queries

    public func sockets(in rooms: Set<String>) async throws -> Set<String> {
        var result = try await self.local.sockets(in: rooms)
        let remote = try await self.request(
            .sockets,
            fields: ["rooms": .array(rooms.sorted().map { .string($0) })],
            what: "allSockets response"
        )
        for id in remote { if let id = id.stringValue { result.insert(id) } }
        return result
    }

    /// Every room of every node.
    public func allRooms() async throws -> Set<String> {
        var result = Set(self.local.rooms.keys)
        for room in try await self.request(.allRooms, fields: [:], what: "allRooms response") {
            if let room = room.stringValue { result.insert(room) }
        }
        return result
    }

    public func fetchSockets(_ options: BroadcastOptions) async throws -> [FetchedSocket] {
        var result = try await self.local.fetchSockets(options)
        guard !options.local else { return result }
        let remote = try await self.request(
            .remoteFetch,
            fields: ["opts": RedisAdapterMessage.selectionObject(options)],
            what: "fetchSockets response"
        )
        result.append(contentsOf: remote.compactMap(RedisAdapterMessage.fetchedSocket(from:)))
        return result
    }

    // MARK: Acting on sockets everywhere

    public func addSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        self.local.addSockets(options, rooms: rooms)
        guard !options.local else { return }
        self.publish(self.channels.request, RedisAdapterMessage.json([
            "uid": .string(self.uid),
            "type": .int(RedisRequestType.remoteJoin.rawValue),
            "opts": RedisAdapterMessage.selectionObject(options),
            "rooms": .array(rooms.sorted().map { .string($0) }),
        ]))
    }

    public func delSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        self.local.delSockets(options, rooms: rooms)
        guard !options.local else { return }
        self.publish(self.channels.request, RedisAdapterMessage.json([
            "uid": .string(self.uid),
            "type": .int(RedisRequestType.remoteLeave.rawValue),
            "opts": RedisAdapterMessage.selectionObject(options),
            "rooms": .array(rooms.sorted().map { .string($0) }),
        ]))
    }

    public func disconnectSockets(_ options: BroadcastOptions, close: Bool) {
        self.local.disconnectSockets(options, close: close)
        guard !options.local else { return }
        self.publish(self.channels.request, RedisAdapterMessage.json([
            "uid": .string(self.uid),
            "type": .int(RedisRequestType.remoteDisconnect.rawValue),
            "opts": RedisAdapterMessage.selectionObject(options),
            "close": .bool(close),
        ]))
    }

    public func serverSideEmit(_ arguments: [JSONValue], timeout: TimeAmountMilliseconds?) async throws -> [JSONValue] {
        guard let timeout else {
            self.publish(self.channels.request, RedisAdapterMessage.json([
                "uid": .string(self.uid),
                "type": .int(RedisRequestType.serverSideEmit.rawValue),
                "data": .array(arguments),
            ]))
            return []
        }
        return try await self.request(
            .serverSideEmit,
            fields: ["data": .array(arguments)],
            what: "serverSideEmit acknowledgements",
            timeout: .milliseconds(timeout)
        )
    }

    // MARK: Requests with answers

    /// Publishes a request and collects what the other nodes answer (one answer per node expected, the
    /// number of nodes being the request channel's subscribers).
    private func request(
        _ type: RedisRequestType,
        fields: [String: JSONValue],
        what: String,
        timeout: TimeAmount? = nil
    ) async throws -> [JSONValue] {
        let subscribers: Int
        do {
            subscribers = try await self.publisher.numberOfSubscribers(self.channels.request).get()
        } catch let error as RedisError where error == .notConnected {
            // Redis is down: answer with this node's part rather than fail local work.
            self.logger.debug("Redis unavailable; answering \(what) from this node only", metadata: ["sio.nsp": "\(self.namespace.name)"])
            return []
        }
        let expected = subscribers - 1  // every node but this one answers
        guard expected > 0 else { return [] }
        let requestId = Self.randomId()
        let timeout = timeout ?? TimeAmount(self.factory.options.requestsTimeout)
        let answers = self.requests.start(id: requestId, tag: type.rawValue, expected: expected, timeout: timeout, on: self.publisher.eventLoopForTimers, what: what)
        var object: JSONObject = ["uid": .string(self.uid), "requestId": .string(requestId), "type": .int(type.rawValue)]
        for key in fields.keys.sorted() { _ = object.updateValue(fields[key]!, forKey: key) }
        self.publish(self.channels.request, JSONValue.object(object).jsonBytes())
        return try await answers.get()
    }

    // MARK: Incoming

    /// A message on a broadcast channel.
    func onBroadcast(channel: String, payload: ByteBuffer) {
        guard channel.hasPrefix(self.channels.broadcast) else { return }
        let message: RedisAdapterMessage.Broadcast
        do {
            message = try RedisAdapterMessage.decodeBroadcast(payload)
        } catch {
            self.logger.debug("ignoring malformed broadcast", metadata: ["error": "\(error)", "redis.channel": "\(channel)"])
            return
        }
        guard message.uid != self.uid, message.packet.namespace == self.namespace.name else { return }
        self.local.broadcast(message.packet, options: message.options)
    }

    /// A message on the request or response channels.
    func onRequestOrResponse(channel: String, payload: ByteBuffer) {
        let object: JSONObject
        do {
            object = try RedisAdapterMessage.decodeObject(payload)
        } catch {
            self.logger.debug("ignoring malformed request", metadata: ["error": "\(error)", "redis.channel": "\(channel)"])
            return
        }
        if channel.hasPrefix(self.channels.response) {
            self.onResponse(object)
        } else if channel == self.channels.request {
            self.onRequest(object)
        }
    }

    private func onRequest(_ request: JSONObject) {
        guard let typeNumber = request["type"]?.intValue else { return }
        let type = RedisRequestType(rawValue: typeNumber)
        let requestId = request["requestId"]?.stringValue
        let fromSelf = request["uid"]?.stringValue == self.uid
        switch type {
        case .sockets:
            guard !fromSelf, let requestId else { return }
            let ids = self.local.localSockets(BroadcastOptions(rooms: Set(RedisAdapterMessage.strings(request["rooms"])))).map { JSONValue.string($0.id) }
            self.publishResponse(to: request, RedisAdapterMessage.json(["requestId": .string(requestId), "sockets": .array(ids)]))
        case .allRooms:
            guard !fromSelf, let requestId else { return }
            let rooms = self.local.rooms.keys.sorted().map { JSONValue.string($0) }
            self.publishResponse(to: request, RedisAdapterMessage.json(["requestId": .string(requestId), "rooms": .array(rooms)]))
        case .remoteJoin, .remoteLeave, .remoteDisconnect:
            guard !fromSelf else { return }  // applied locally when sent
            let options: BroadcastOptions
            if let opts = request["opts"] {
                options = RedisAdapterMessage.options(from: opts)
            } else if let sid = request["sid"]?.stringValue {
                // The older single-socket form, answered with a response.
                options = BroadcastOptions(rooms: [sid])
                guard self.local.localSockets(options).contains(where: { $0.id == sid }) else { return }
                if let requestId { self.publishResponse(to: request, RedisAdapterMessage.json(["requestId": .string(requestId)])) }
            } else {
                return
            }
            switch type {
            case .remoteJoin:
                var rooms = Set(RedisAdapterMessage.strings(request["rooms"]))
                if let room = request["room"]?.stringValue { rooms.insert(room) }
                self.local.addSockets(options, rooms: rooms)
            case .remoteLeave:
                var rooms = Set(RedisAdapterMessage.strings(request["rooms"]))
                if let room = request["room"]?.stringValue { rooms.insert(room) }
                self.local.delSockets(options, rooms: rooms)
            default:
                self.local.disconnectSockets(options, close: request["close"]?.boolValue ?? false)
            }
        case .remoteFetch:
            guard !fromSelf, let requestId else { return }
            let options = RedisAdapterMessage.options(from: request["opts"])
            let sockets = self.local.localSockets(options).map(RedisAdapterMessage.socketObject)
            self.publishResponse(to: request, RedisAdapterMessage.json(["requestId": .string(requestId), "sockets": .array(sockets)]))
        case .serverSideEmit:
            guard !fromSelf else { return }
            let data = request["data"]?.arrayValue ?? []
            guard let requestId else {
                self.namespace.receiveServerSideEmit(data, ack: nil)
                return
            }
            let called = NIOLockedValueBox(false)
            let responseChannel = self.channels.response
            let publisher = self.publisher
            self.namespace.receiveServerSideEmit(data) { arguments in
                let first = called.withLockedValue { called -> Bool in
                    defer { called = true }
                    return !called
                }
                guard first else { return }
                // Only the first argument crosses, as in the Node.js adapter.
                publisher.publish(responseChannel, RedisAdapterMessage.json([
                    "type": .int(RedisRequestType.serverSideEmit.rawValue),
                    "requestId": .string(requestId),
                    "data": arguments.first,
                ])).whenFailure { _ in }
            }
        case .broadcast:
            guard !fromSelf, let requestId, let packet = RedisAdapterMessage.packet(from: request["packet"]) else { return }
            guard self.state.withLockedValue({ $0.ackRequests[requestId] == nil }) else { return }
            let options = RedisAdapterMessage.options(from: request["opts"])
            self.local.broadcastWithAck(
                packet,
                options: options,
                clientCount: { count in
                    self.publishResponse(to: request, RedisAdapterMessage.json([
                        "type": .int(RedisRequestType.broadcastClientCount.rawValue),
                        "requestId": .string(requestId),
                        "clientCount": .int(count),
                    ]))
                },
                ack: { arguments in
                    self.publishResponse(to: request, RedisAdapterMessage.msgpack([
                        "type": .int(RedisRequestType.broadcastAck.rawValue),
                        "requestId": .string(requestId),
                        "packet": arguments.first,
                    ]))
                }
            )
        default:
            self.logger.debug("ignoring request of unknown type", metadata: ["redis.type": "\(type)"])
        }
    }

    private func onResponse(_ response: JSONObject) {
        guard let requestId = response["requestId"]?.stringValue else { return }
        if let ackRequest = self.state.withLockedValue({ $0.ackRequests[requestId] }) {
            switch response["type"]?.intValue.map(RedisRequestType.init(rawValue:)) {
            case .broadcastClientCount?:
                ackRequest.clientCount.add(response["clientCount"]?.intValue ?? 0)
            case .broadcastAck?:
                ackRequest.ack(response["packet"].map { [$0] } ?? [])
            default:
                break
            }
            return
        }
        self.requests.answer(id: requestId) { tag in
            switch RedisRequestType(rawValue: tag) {
            case .sockets, .remoteFetch: return response["sockets"]?.arrayValue ?? []
            case .allRooms: return response["rooms"]?.arrayValue ?? []
            case .serverSideEmit: return [response["data"] ?? .null]
            default: return []
            }
        }
    }

    // MARK: Publishing

    private func publishResponse(to request: JSONObject, _ response: ByteBuffer) {
        if self.factory.options.publishOnSpecificResponseChannel, let uid = request["uid"]?.stringValue {
            self.publish(self.channels.specificResponse(uid), response)
        } else {
            self.publish(self.channels.response, response)
        }
    }

    private func publish(_ channel: String, _ message: ByteBuffer) {
        self.publisher.publish(channel, message).whenFailure { error in
            // Redis is away (the client logs the outage and reconnects); cross-node delivery is lost meanwhile.
            self.logger.trace("publish failed", metadata: ["redis.channel": "\(channel)", "error": "\(error)"])
        }
    }
}

/// Adds up the client counts of a broadcast with acks over the nodes and reports the total once, when
/// every node (their number learned from Redis) has reported.
final class ClientCountAggregator: Sendable {
    private struct State {
        var expectedNodes: Int?
        var reportedNodes = 0
        var total = 0
        var done = false
    }

    private let report: @Sendable (Int) -> Void
    private let state = NIOLockedValueBox(State())

    init(report: @escaping @Sendable (Int) -> Void) {
        self.report = report
    }

    func expectNodes(_ count: Int) {
        self.update { $0.expectedNodes = count }
    }

    func add(_ count: Int) {
        self.update { state in
            state.reportedNodes += 1
            state.total += count
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let total = self.state.withLockedValue { state -> Int? in
            change(&state)
            guard !state.done, let expected = state.expectedNodes, state.reportedNodes >= expected else { return nil }
            state.done = true
            return state.total
        }
        if let total { self.report(total) }
    }
}
