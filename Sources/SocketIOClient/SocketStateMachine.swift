import NIOCore
import SocketIOCore

/// One client socket's protocol state, pure: namespace connection, the buffer of emits made while
/// disconnected, acknowledgement bookkeeping (ids, timeouts), the at-least-once retry queue (`retries`), and
/// connection state recovery (`pid`/`offset`). Events return actions that the Manager performs.
///
/// `Callback` is whatever the owner calls when an acknowledgement arrives or fails.
public struct SocketStateMachine<Callback> {
    /// The namespace connection's state.
    public enum State: Hashable, Sendable {
        /// Not connected; `active` says whether it will connect when the Manager is open.
        case disconnected
        /// CONNECT sent, waiting for the answer.
        case connecting
        /// Connected with socket id `sid`.
        case connected(sid: String)
    }

    /// What the owner must do.
    public enum Action {
        /// Send a CONNECT packet with the auth payload merged with `recovery` (`pid` and `offset`), if any.
        case sendConnect(recovery: JSONObject?)
        /// Send a packet.
        case send(SocketPacket)
        /// Start a timer for ack `id`; call ``ackTimedOut(id:)`` when it fires.
        case startAckTimer(id: Int, timeout: TimeAmount)
        /// Cancel the timer of ack `id`.
        case cancelAckTimer(id: Int)
        /// Call the callback with the acknowledgement's arguments.
        case completeAck(Callback, [JSONValue])
        /// Call the callback with an error.
        case failAck(Callback, SocketClientError)
        /// Emit `connect`.
        case emitConnect
        /// Emit `connect_error`.
        case emitConnectError(SocketClientError)
        /// Emit `disconnect` with a reason.
        case emitDisconnect(reason: String)
        /// Deliver an event to the listeners; `ackId` when the server wants an acknowledgement.
        case deliver(event: String, arguments: [JSONValue], ackId: Int?)
        /// Nothing is connected any more: the Manager may close if no socket is active.
        case becameInactive
    }

    private enum AckOwner {
        case user(Callback)
        case queue(sequence: Int)
    }

    private struct PendingAck {
        var owner: AckOwner
        var hasTimer: Bool
    }

    private struct QueuedEmit {
        var sequence: Int
        var event: String
        var arguments: [JSONValue]
        var callback: Callback?
        var tryCount = 0
        var pending = false
    }

    /// The namespace.
    public let namespace: String
    /// `retries`: how many times an emit of the queue is re-sent when its ack does not come.
    public var retries: Int?
    /// `ackTimeout`: the default acknowledgement timeout.
    public var ackTimeout: TimeAmount?
    /// The state.
    public private(set) var state = State.disconnected
    /// Whether the socket wants to be connected (`socket.active`).
    public private(set) var active = false
    /// Whether the last connection recovered the previous session's state.
    public private(set) var recovered = false
    /// The private session id the server offered for connection state recovery.
    public private(set) var pid: String?
    /// The offset of the last event received, for connection state recovery.
    public private(set) var lastOffset: String?

    private var nextAckId = 0
    private var acks: [Int: PendingAck] = [:]
    private var sendBuffer: [SocketPacket] = []
    private var queue: [QueuedEmit] = []
    private var queueSequence = 0

    /// Creates the machine.
    public init(namespace: String, retries: Int? = nil, ackTimeout: TimeAmount? = nil) {
        self.namespace = namespace
        self.retries = retries
        self.ackTimeout = ackTimeout
    }

    /// Whether the namespace is connected.
    public var connected: Bool {
        if case .connected = self.state { return true }
        return false
    }

    /// The socket id, when connected.
    public var id: String? {
        if case .connected(let sid) = self.state { return sid }
        return nil
    }

    /// How many packets wait for the connection.
    public var bufferedCount: Int { self.sendBuffer.count }
    /// How many acknowledgements are awaited.
    public var pendingAckCount: Int { self.acks.count }
    /// How many emits are in the retry queue.
    public var queuedCount: Int { self.queue.count }

    // MARK: Connection

    /// The user asked to connect; `engineOpen` says whether the Manager's connection is open.
    public mutating func connect(engineOpen: Bool) -> [Action] {
        self.active = true
        guard engineOpen, self.state == .disconnected else { return [] }
        return self.sendConnect()
    }

    /// The Manager's connection opened (or reopened).
    public mutating func engineOpened() -> [Action] {
        guard self.active, self.state == .disconnected else { return [] }
        return self.sendConnect()
    }

    private mutating func sendConnect() -> [Action] {
        self.state = .connecting
        return [.sendConnect(recovery: self.recoveryPayload)]
    }

    /// What a CONNECT adds to the auth payload for connection state recovery: `{pid, offset}` once the server
    /// gave a `pid` (`offset` left out until an event carried one, as `JSON.stringify` leaves out the official
    /// client's `undefined`); nil without a `pid`.
    public var recoveryPayload: JSONObject? {
        guard let pid = self.pid else { return nil }
        var payload: JSONObject = ["pid": .string(pid)]
        if let offset = self.lastOffset { payload["offset"] = .string(offset) }
        return payload
    }

    /// The CONNECT payload: the `recovery` keys (``recoveryPayload``) with the `auth` object over them, so
    /// that auth's own keys win, as the official client's `Object.assign({pid, offset}, auth)`.
    public static func connectPayload(auth: JSONObject?, recovery: JSONObject?) -> JSONObject? {
        guard var merged = recovery else { return auth }
        for (key, value) in auth ?? [:] { merged[key] = value }
        return merged
    }

    /// The server accepted the namespace connection (`{"sid":…, "pid":…}`).
    public mutating func received(connect payload: JSONValue?) -> [Action] {
        guard self.state == .connecting || self.state == .disconnected, let sid = payload?["sid"]?.stringValue else {
            return []
        }
        // As the official client: recovered when the server gave back the pid we sent; the pid is replaced
        // (nil when the server has recovery off); the last offset is kept until an event brings a new one.
        let pid = payload?["pid"]?.stringValue
        self.recovered = pid != nil && pid == self.pid
        self.pid = pid
        self.state = .connected(sid: sid)
        var actions: [Action] = [.emitConnect]
        // The emits made while disconnected, in order.
        let buffered = self.sendBuffer
        self.sendBuffer.removeAll()
        actions += buffered.map { .send($0) }
        actions += self.drainQueue(force: true)
        return actions
    }

    /// The server refused the namespace connection. The socket becomes inactive, and the emits waiting for
    /// the connection are dropped: those that asked for an acknowledgement fail with the refusal at once
    /// rather than at their timeout (or never, without one).
    public mutating func received(connectError payload: JSONValue?) -> [Action] {
        let message = payload?["message"]?.stringValue ?? payload?.stringValue ?? "connection refused"
        let error = SocketClientError.connectError(message: message, data: payload?["data"])
        self.state = .disconnected
        self.active = false
        return [.emitConnectError(error)] + self.dropWaitingEmits(failingWith: error) + [.becameInactive]
    }

    /// Drops the buffered emits and the retry queue, failing their acknowledgements with `error`.
    private mutating func dropWaitingEmits(failingWith error: SocketClientError) -> [Action] {
        var actions: [Action] = []
        let bufferedIds = self.sendBuffer.compactMap(\.ackId)
        self.sendBuffer.removeAll()
        for id in bufferedIds {
            guard let pending = self.acks.removeValue(forKey: id) else { continue }
            if pending.hasTimer { actions.append(.cancelAckTimer(id: id)) }
            if case .user(let callback) = pending.owner { actions.append(.failAck(callback, error)) }
        }
        for (id, pending) in self.acks.sorted(by: { $0.key < $1.key }) {
            guard case .queue = pending.owner else { continue }
            self.acks[id] = nil
            if pending.hasTimer { actions.append(.cancelAckTimer(id: id)) }
        }
        let queued = self.queue
        self.queue.removeAll()
        for emit in queued { if let callback = emit.callback { actions.append(.failAck(callback, error)) } }
        return actions
    }

    /// The server disconnected the socket (DISCONNECT packet).
    public mutating func receivedDisconnect() -> [Action] {
        guard self.state != .disconnected else { return [] }
        self.active = false
        return self.disconnected(reason: "io server disconnect") + [.becameInactive]
    }

    /// The user disconnects: send DISCONNECT when connected.
    public mutating func disconnect() -> [Action] {
        let wasConnected = self.connected
        self.active = false
        var actions: [Action] = wasConnected ? [.send(.disconnect(namespace: self.namespace))] : []
        if self.state != .disconnected {
            actions += self.disconnected(reason: "io client disconnect")
        }
        return actions + [.becameInactive]
    }

    /// The Manager's connection closed with `reason` (`transport close`, `ping timeout`, …); the socket stays
    /// active and reconnects with the Manager.
    public mutating func engineClosed(reason: String) -> [Action] {
        guard self.state != .disconnected else { return [] }
        return self.disconnected(reason: reason)
    }

    /// The Manager could not open its connection.
    public mutating func engineOpenFailed(_ error: SocketClientError) -> [Action] {
        guard self.active, !self.connected else { return [] }
        self.state = .disconnected
        return [.emitConnectError(error)]
    }

    private mutating func disconnected(reason: String) -> [Action] {
        self.state = .disconnected
        var actions: [Action] = [.emitDisconnect(reason: reason)]
        // Acks of packets already sent will not come: fail them (those still buffered wait for the reconnection).
        let bufferedIds = Set(self.sendBuffer.compactMap(\.ackId))
        for (id, pending) in self.acks.sorted(by: { $0.key < $1.key }) where !bufferedIds.contains(id) {
            self.acks[id] = nil
            if pending.hasTimer { actions.append(.cancelAckTimer(id: id)) }
            actions += self.ackFailed(pending.owner, error: .disconnected)
        }
        return actions
    }

    // MARK: Emitting

    /// Emits an event. `callback` asks for an acknowledgement, failed after `timeout` (default `ackTimeout`).
    /// A volatile emit is dropped when not connected; any other is buffered until the connection.
    public mutating func emit(
        _ event: String,
        _ arguments: [JSONValue],
        callback: Callback? = nil,
        timeout: TimeAmount? = nil,
        volatile: Bool = false
    ) -> [Action] {
        var actions: [Action] = []
        var ackId: Int?
        if let callback {
            let id = self.nextAckId
            self.nextAckId += 1
            ackId = id
            let timeout = timeout ?? self.ackTimeout
            self.acks[id] = PendingAck(owner: .user(callback), hasTimer: timeout != nil)
            if let timeout { actions.append(.startAckTimer(id: id, timeout: timeout)) }
        }
        let packet = SocketPacket.event(event, arguments, namespace: self.namespace, ackId: ackId)
        if self.connected {
            actions.append(.send(packet))
        } else if volatile {
            // Dropped; an ack it asked for fails at its timeout.
        } else {
            self.sendBuffer.append(packet)
        }
        return actions
    }

    /// Emits through the retry queue (the `retries` option): one at a time, each re-sent with a new ack id
    /// until acknowledged or `retries` re-sends have timed out; at least once delivery.
    public mutating func emitWithRetries(_ event: String, _ arguments: [JSONValue], callback: Callback?) -> [Action] {
        self.queue.append(QueuedEmit(sequence: self.queueSequence, event: event, arguments: arguments, callback: callback))
        self.queueSequence += 1
        return self.drainQueue(force: false)
    }

    private mutating func drainQueue(force: Bool) -> [Action] {
        guard self.connected, var first = self.queue.first else { return [] }
        if first.pending && !force { return [] }
        first.pending = true
        first.tryCount += 1
        self.queue[0] = first
        let id = self.nextAckId
        self.nextAckId += 1
        let timeout = self.ackTimeout
        self.acks[id] = PendingAck(owner: .queue(sequence: first.sequence), hasTimer: timeout != nil)
        var actions: [Action] = []
        if let timeout { actions.append(.startAckTimer(id: id, timeout: timeout)) }
        actions.append(.send(.event(first.event, first.arguments, namespace: self.namespace, ackId: id)))
        return actions
    }

    // MARK: Acknowledgements

    /// An acknowledgement arrived.
    public mutating func received(ackId id: Int, arguments: [JSONValue]) -> [Action] {
        guard let pending = self.acks.removeValue(forKey: id) else { return [] }
        var actions: [Action] = pending.hasTimer ? [.cancelAckTimer(id: id)] : []
        switch pending.owner {
        case .user(let callback):
            actions.append(.completeAck(callback, arguments))
        case .queue(let sequence):
            guard let first = self.queue.first, first.sequence == sequence else { return actions }
            self.queue.removeFirst()
            if let callback = first.callback { actions.append(.completeAck(callback, arguments)) }
            actions += self.drainQueue(force: false)
        }
        return actions
    }

    /// The timer of ack `id` fired.
    public mutating func ackTimedOut(id: Int) -> [Action] {
        guard let pending = self.acks.removeValue(forKey: id) else { return [] }
        // A timed-out emit still waiting for the connection is not sent any more.
        self.sendBuffer.removeAll { $0.ackId == id }
        return self.ackFailed(pending.owner, error: .timeout)
    }

    private mutating func ackFailed(_ owner: AckOwner, error: SocketClientError) -> [Action] {
        switch owner {
        case .user(let callback):
            return [.failAck(callback, error)]
        case .queue(let sequence):
            guard var first = self.queue.first, first.sequence == sequence else { return [] }
            var actions: [Action] = []
            first.pending = false
            if first.tryCount > (self.retries ?? 0) {
                self.queue.removeFirst()
                if let callback = first.callback { actions.append(.failAck(callback, error)) }
            } else {
                self.queue[0] = first
            }
            return actions + self.drainQueue(force: false)
        }
    }

    // MARK: Receiving

    /// An event arrived. With connection state recovery (a `pid` from the server), an event without an ack
    /// id whose last argument is a string carries its offset there: it becomes ``lastOffset``. As in the
    /// official client, the offset stays in the arguments handed to the listeners.
    public mutating func received(event packet: SocketPacket) -> [Action] {
        guard let name = packet.eventName else { return [] }
        let arguments = Array(packet.arguments)
        if self.pid != nil, packet.ackId == nil, let offset = arguments.last?.stringValue {
            self.lastOffset = offset
        }
        return [.deliver(event: name, arguments: arguments, ackId: packet.ackId)]
    }
}
