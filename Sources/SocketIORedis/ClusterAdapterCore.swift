import Logging
import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore
import SocketIOAdapter
import SocketIOCore

/// How a cluster adapter reaches the other nodes: what differs between the sharded adapter (everything on
/// sharded Pub/Sub) and the Redis Streams adapter (a stream for what must not be lost, Pub/Sub for the
/// rest). The adapter logic in `ClusterAdapterCore` never sees the bus.
protocol ClusterTransport: Sendable {
    /// The loop for timers.
    var eventLoop: EventLoop { get }
    /// Sends a message of this node to every node of the namespace.
    func publish(_ type: ClusterMessageType, _ data: JSONValue)
    /// Sends a response to node `requester`.
    func publishResponse(to requester: String, _ type: ClusterMessageType, _ data: JSONValue)
    /// The number of nodes (this one included).
    func serverCount() -> EventLoopFuture<Int>
}

/// socket.io-adapter's `ClusterAdapter` without its bus: broadcasts with acks, requests and their
/// responses, and the handling of every incoming message, shared by `RedisShardedAdapter` and
/// `RedisStreamsAdapter`.
final class ClusterAdapterCore: Sendable {
    /// A broadcast with acks this node sent: where the other nodes' counts and acks go.
    private struct AckRequest {
        var clientCount: ClientCountAggregator
        var ack: @Sendable ([JSONValue]) -> Void
    }

    unowned let namespace: any AdapterNamespace
    let uid: String
    let local: any LocalAdapter
    let transport: any ClusterTransport
    let requestsTimeout: TimeAmount
    let logger: Logger
    private let requests = PendingRequests()
    private let ackRequests = NIOLockedValueBox<[String: AckRequest]>([:])

    init(namespace: any AdapterNamespace, uid: String, local: any LocalAdapter, transport: any ClusterTransport, requestsTimeout: TimeAmount, logger: Logger) {
        self.namespace = namespace
        self.uid = uid
        self.local = local
        self.transport = transport
        self.requestsTimeout = requestsTimeout
        self.logger = logger
    }

    /// Whether connection state recovery is on for this server.
    var recoveryEnabled: Bool { self.namespace.connectionStateRecovery != nil }

    /// socket.io-adapter's `addOffsetIfNecessary`: with recovery on, an event without ack that is not
    /// volatile gets `offset` as its last argument.
    func withOffset(_ packet: SocketPacket, options: BroadcastOptions, offset: String?) -> SocketPacket {
        guard let offset, self.recoveryEnabled, packet.isEvent, packet.ackId == nil, !options.volatile,
              case .array(var arguments) = packet.data else { return packet }
        var packet = packet
        arguments.append(.string(offset))
        packet.data = .array(arguments)
        return packet
    }

    // MARK: Outgoing

    func broadcastWithAck(
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
            let requestId = ClusterAdapterMessage.randomId()
            self.ackRequests.withLockedValue { $0[requestId] = AckRequest(clientCount: aggregator, ack: ack) }
            self.transport.publish(.broadcast, ClusterAdapterMessage.broadcastData(packet: packet, options: options, requestId: requestId))
            self.transport.serverCount().whenComplete { result in aggregator.expectNodes(max(1, (try? result.get()) ?? 1)) }
            let timeout = options.timeout ?? self.requestsTimeout
            self.transport.eventLoop.scheduleTask(in: timeout) { [weak self] in
                _ = self?.ackRequests.withLockedValue { $0.removeValue(forKey: requestId) }
            }
        }
        self.local.broadcastWithAck(packet, options: options, clientCount: { aggregator.add($0) }, ack: ack)
    }

    func fetchSockets(_ options: BroadcastOptions) async throws -> [FetchedSocket] {
        var result = try await self.local.fetchSockets(options)
        guard !options.local else { return result }
        let remote = try await self.request(
            .fetchSockets,
            expectedTag: ClusterMessageType.fetchSocketsResponse,
            timeout: options.timeout ?? self.requestsTimeout,
            what: "fetchSockets response"
        ) { requestId in ClusterAdapterMessage.fetchSocketsData(options: options, requestId: requestId) }
        result.append(contentsOf: remote.compactMap(RedisAdapterMessage.fetchedSocket(from:)))
        return result
    }

    func addSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        if !options.local { self.transport.publish(.socketsJoin, ClusterAdapterMessage.roomsData(options: options, rooms: rooms)) }
        self.local.addSockets(options, rooms: rooms)
    }

    func delSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        if !options.local { self.transport.publish(.socketsLeave, ClusterAdapterMessage.roomsData(options: options, rooms: rooms)) }
        self.local.delSockets(options, rooms: rooms)
    }

    func disconnectSockets(_ options: BroadcastOptions, close: Bool) {
        if !options.local { self.transport.publish(.disconnectSockets, ClusterAdapterMessage.disconnectData(options: options, close: close)) }
        self.local.disconnectSockets(options, close: close)
    }

    func serverSideEmit(_ arguments: [JSONValue], timeout: TimeAmountMilliseconds?) async throws -> [JSONValue] {
        guard let timeout else {
            self.transport.publish(.serverSideEmit, ClusterAdapterMessage.serverSideEmitData(arguments: arguments, requestId: nil))
            return []
        }
        return try await self.request(
            .serverSideEmit,
            expectedTag: ClusterMessageType.serverSideEmitResponse,
            timeout: .milliseconds(timeout),
            what: "serverSideEmit acknowledgements"
        ) { requestId in ClusterAdapterMessage.serverSideEmitData(arguments: arguments, requestId: requestId) }
    }

    /// Publishes a request to every node and gathers one answer from every other node.
    private func request(
        _ type: ClusterMessageType,
        expectedTag: ClusterMessageType,
        timeout: TimeAmount,
        what: String,
        data: (String) -> JSONValue
    ) async throws -> [JSONValue] {
        let servers: Int
        do {
            servers = try await self.transport.serverCount().get()
        } catch let error as RedisError where error == .notConnected {
            // Redis is away: answer with this node's part rather than fail local work.
            self.logger.debug("Redis unavailable; answering \(what) from this node only", metadata: ["sio.nsp": "\(self.namespace.name)"])
            return []
        }
        let expected = servers - 1
        guard expected > 0 else { return [] }
        let requestId = ClusterAdapterMessage.randomId()
        let answers = self.requests.start(id: requestId, tag: expectedTag.rawValue, expected: expected, timeout: timeout, on: self.transport.eventLoop, what: what)
        self.transport.publish(type, data(requestId))
        return try await answers.get()
    }

    // MARK: Incoming

    /// A message from another node (ClusterAdapter's `onMessage`); `offset` is the stream entry id of a
    /// message read from a stream.
    func onMessage(_ message: ClusterAdapterMessage.Decoded, offset: String? = nil) {
        let data = message.data
        switch message.type {
        case .broadcast:
            guard var packet = RedisAdapterMessage.packet(from: data["packet"]) else { return }
            packet.namespace = self.namespace.name
            let options = RedisAdapterMessage.options(from: data["opts"])
            guard let requestId = data["requestId"]?.stringValue else {
                self.local.broadcast(self.withOffset(packet, options: options, offset: offset), options: options)
                return
            }
            guard let requester = message.uid else { return }
            self.local.broadcastWithAck(
                packet,
                options: options,
                clientCount: { count in
                    self.transport.publishResponse(to: requester, .broadcastClientCount, ClusterAdapterMessage.clientCountData(requestId: requestId, clientCount: count))
                },
                ack: { arguments in
                    self.transport.publishResponse(to: requester, .broadcastAck, ClusterAdapterMessage.answerData(requestId: requestId, packet: arguments.first))
                }
            )
        case .socketsJoin:
            self.local.addSockets(RedisAdapterMessage.options(from: data["opts"]), rooms: Set(RedisAdapterMessage.strings(data["rooms"])))
        case .socketsLeave:
            self.local.delSockets(RedisAdapterMessage.options(from: data["opts"]), rooms: Set(RedisAdapterMessage.strings(data["rooms"])))
        case .disconnectSockets:
            self.local.disconnectSockets(RedisAdapterMessage.options(from: data["opts"]), close: data["close"]?.boolValue ?? false)
        case .fetchSockets:
            guard let requester = message.uid, let requestId = data["requestId"]?.stringValue else { return }
            let sockets = self.local.localSockets(RedisAdapterMessage.options(from: data["opts"])).map(RedisAdapterMessage.socketObject)
            self.transport.publishResponse(to: requester, .fetchSocketsResponse, ClusterAdapterMessage.fetchSocketsResponseData(requestId: requestId, sockets: sockets))
        case .serverSideEmit:
            let arguments = data["packet"]?.arrayValue ?? []
            guard let requestId = data["requestId"]?.stringValue, let requester = message.uid else {
                self.namespace.receiveServerSideEmit(arguments, ack: nil)
                return
            }
            let called = NIOLockedValueBox(false)
            self.namespace.receiveServerSideEmit(arguments) { answer in
                // Only the first call and its first argument cross, as in the Node.js adapter.
                guard called.withLockedValue({ called in defer { called = true }; return !called }) else { return }
                self.transport.publishResponse(to: requester, .serverSideEmitResponse, ClusterAdapterMessage.answerData(requestId: requestId, packet: answer.first))
            }
        case .broadcastClientCount, .broadcastAck, .fetchSocketsResponse, .serverSideEmitResponse:
            // A response that arrived on a shared channel: handled like one on ours (as ClusterAdapter does).
            self.onResponse(message)
        default:
            // Heartbeats and ADAPTER_CLOSE belong to the heartbeat adapters; nothing to do here.
            break
        }
    }

    /// A response to one of this node's requests.
    func onResponse(_ message: ClusterAdapterMessage.Decoded) {
        guard let requestId = message.data["requestId"]?.stringValue else { return }
        switch message.type {
        case .broadcastClientCount:
            let request = self.ackRequests.withLockedValue { $0[requestId] }
            request?.clientCount.add(message.data["clientCount"]?.intValue ?? 0)
        case .broadcastAck:
            let request = self.ackRequests.withLockedValue { $0[requestId] }
            request?.ack(message.data["packet"].map { [$0] } ?? [])
        case .fetchSocketsResponse, .serverSideEmitResponse:
            self.requests.answer(id: requestId) { tag in
                guard tag == message.type.rawValue else { return [] }
                return message.type == .fetchSocketsResponse ? message.data["sockets"]?.arrayValue ?? [] : [message.data["packet"] ?? .null]
            }
        default:
            break
        }
    }
}
