import NIOConcurrencyHelpers
import NIOCore
import SocketIOAdapter
import SocketIOCore

/// The default adapter: rooms in this process's memory; broadcasts reach this node's sockets only.
///
/// Every socket is in the room named after its id; that membership is implied rather than stored (one
/// flag per socket), so a socket in no other room costs no set at all: two single-member sets per socket
/// would otherwise be most of what the adapter holds.
public final class InMemoryAdapter: LocalAdapter {
    private struct Membership {
        /// The rooms joined, apart from the socket's own.
        var rooms: Set<String> = []
        /// Whether the socket is in the room named after its id (until it leaves it).
        var inOwnRoom = false
    }

    private struct State {
        /// room → socket ids, without the sockets' own rooms
        var rooms: [String: Set<String>] = [:]
        /// socket id → rooms
        var sids: [String: Membership] = [:]
        /// `Namespace.onRoomChange` listeners (none unless instrumented).
        var roomListeners: [@Sendable (RoomChange) -> Void] = []

        /// Calls `body` with every member of `room`.
        func forEachMember(of room: String, _ body: (String) -> Void) {
            if self.sids[room]?.inOwnRoom == true { body(room) }
            if let members = self.rooms[room] {
                for id in members where id != room { body(id) }
            }
        }
    }

    /// The namespace whose rooms this adapter keeps.
    public unowned let namespace: Namespace
    private let state = NIOLockedValueBox(State())
    /// Recent packets and disconnected sessions, when connection state recovery is on.
    let recoveryLog: RecoveryLog?

    /// Creates the adapter of `namespace`. With connection state recovery on, it keeps the namespace's
    /// recent packets and disconnected sessions, unless `keepsRecoveryLog` is false: an adapter that keeps
    /// them elsewhere (in Redis) and gives packets their offsets itself uses it for rooms and delivery only.
    public init(namespace: Namespace, keepsRecoveryLog: Bool = true) {
        self.namespace = namespace
        guard keepsRecoveryLog, let recovery = namespace.server.configuration.connectionStateRecovery else {
            self.recoveryLog = nil
            namespace.register(roomTable: self)
            return
        }
        let log = RecoveryLog(configuration: recovery)
        self.recoveryLog = log
        // Expired sessions and packets go within a fraction of the window (packets also go as new ones come).
        let interval = TimeAmount.nanoseconds(min(max(recovery.maxDisconnectionDuration.nanoseconds / 4, 1_000_000_000), 10_000_000_000))
        namespace.server.eventLoopGroup.any().scheduleRepeatedTask(initialDelay: interval, delay: interval) { [weak log] task in
            guard let log else { return task.cancel() }
            log.prune()
        }
        namespace.register(roomTable: self)
    }

    public func addAll(_ id: String, rooms: Set<String>) {
        let changes = self.state.withLockedValue { state -> RoomChanges? in
            var membership = state.sids.removeValue(forKey: id) ?? Membership()
            var changes = state.roomListeners.isEmpty ? nil : RoomChanges(listeners: state.roomListeners)
            for room in rooms {
                if room == id {
                    if !membership.inOwnRoom { changes?.list.append(.joined(room: room, id: id)) }
                    membership.inOwnRoom = true
                } else if membership.rooms.insert(room).inserted {
                    state.rooms[room, default: []].insert(id)
                    changes?.list.append(.joined(room: room, id: id))
                }
            }
            state.sids[id] = membership
            return changes
        }
        changes?.report()
    }

    public func del(_ id: String, room: String) {
        let changes = self.state.withLockedValue { state -> RoomChanges? in
            var changes = state.roomListeners.isEmpty ? nil : RoomChanges(listeners: state.roomListeners)
            if room == id {
                if state.sids[id]?.inOwnRoom == true { changes?.list.append(.left(room: room, id: id)) }
                state.sids[id]?.inOwnRoom = false
            } else if state.sids[id]?.rooms.remove(room) != nil {
                Self.remove(id, from: room, in: &state)
                changes?.list.append(.left(room: room, id: id))
            }
            return changes
        }
        changes?.report()
    }

    public func delAll(_ id: String) {
        let changes = self.state.withLockedValue { state -> RoomChanges? in
            guard let membership = state.sids.removeValue(forKey: id) else { return nil }
            for room in membership.rooms { Self.remove(id, from: room, in: &state) }
            guard !state.roomListeners.isEmpty else { return nil }
            var changes = RoomChanges(listeners: state.roomListeners)
            if membership.inOwnRoom { changes.list.append(.left(room: id, id: id)) }
            for room in membership.rooms { changes.list.append(.left(room: room, id: id)) }
            return changes
        }
        changes?.report()
    }

    /// Adds a listener of real joins and leaves (see `Namespace.onRoomChange`).
    func addRoomListener(_ listener: @escaping @Sendable (RoomChange) -> Void) {
        self.state.withLockedValue { $0.roomListeners.append(listener) }
    }

    /// Room changes collected under the lock, reported once it is released.
    private struct RoomChanges {
        let listeners: [@Sendable (RoomChange) -> Void]
        var list: [RoomChange] = []

        func report() {
            for change in self.list {
                for listener in self.listeners { listener(change) }
            }
        }
    }

    private static func remove(_ id: String, from room: String, in state: inout State) {
        guard var members = state.rooms.removeValue(forKey: room) else { return }
        members.remove(id)
        if !members.isEmpty { state.rooms[room] = members }
    }

    public func socketRooms(_ id: String) -> Set<String>? {
        self.state.withLockedValue { state in
            guard let membership = state.sids[id] else { return nil }
            var rooms = membership.rooms
            if membership.inOwnRoom { rooms.insert(id) }
            return rooms
        }
    }

    public var rooms: [String: Set<String>] {
        self.state.withLockedValue { state in
            var rooms = state.rooms
            for (id, membership) in state.sids where membership.inOwnRoom { rooms[id, default: []].insert(id) }
            return rooms
        }
    }

    /// The local sockets `options` selects: members of any target room (each once), minus members of any
    /// excepted room.
    public func targets(_ options: BroadcastOptions) -> [Socket] {
        if options.rooms.isEmpty {
            // Everyone: straight from the namespace's list, in connection order (as Node.js delivers).
            return self.namespace.localSockets(excluding: self.excludedIDs(options))
        }
        return self.namespace.localSockets(self.targetIDs(options))
    }

    private func excludedIDs(_ options: BroadcastOptions) -> Set<String> {
        guard !options.except.isEmpty else { return [] }
        return self.state.withLockedValue { state in
            var excluded = Set<String>()
            for room in options.except { state.forEachMember(of: room) { excluded.insert($0) } }
            return excluded
        }
    }

    /// The ids of the sockets `options` selects.
    func targetIDs(_ options: BroadcastOptions) -> [String] {
        self.state.withLockedValue { state in
            var excluded = Set<String>()
            for room in options.except { state.forEachMember(of: room) { excluded.insert($0) } }
            var result: [String] = []
            if options.rooms.isEmpty {
                result.reserveCapacity(state.sids.count)
                for id in state.sids.keys where !excluded.contains(id) { result.append(id) }
            } else if options.rooms.count == 1 {
                let room = options.rooms.first!
                result.reserveCapacity(state.rooms[room]?.count ?? 1)
                state.forEachMember(of: room) { id in
                    if !excluded.contains(id) { result.append(id) }
                }
            } else {
                var seen = Set<String>()
                for room in options.rooms {
                    state.forEachMember(of: room) { id in
                        if !excluded.contains(id) && seen.insert(id).inserted { result.append(id) }
                    }
                }
            }
            return result
        }
    }

    public func broadcast(_ packet: SocketPacket, options: BroadcastOptions) {
        let sockets = self.targets(options)
        // With recovery on, an event without ack is kept with its offset even when no socket of this node
        // is reached now (its recipients may be disconnected for a moment). Volatile packets are not kept.
        if let log = self.recoveryLog, packet.isEvent, packet.ackId == nil, !options.volatile {
            let (encoded, offset) = log.record(packet, options: options)
            // outgoing listeners see the offset as the last argument, as Node's do (the Admin UI's event_sent)
            self.notifyOutgoing(packet, to: sockets, offset: offset)
            guard !sockets.isEmpty else { return }
            LocalDelivery.deliver(encoded, to: sockets, volatile: false)
            return
        }
        self.notifyOutgoing(packet, to: sockets)
        guard !sockets.isEmpty else { return }
        LocalDelivery.deliver(EncodedMessages(packet, compress: options.compress), to: sockets, volatile: options.volatile)
    }

    public func broadcastWithAck(
        _ packet: SocketPacket,
        options: BroadcastOptions,
        clientCount: @escaping @Sendable (Int) -> Void,
        ack: @escaping @Sendable ([JSONValue]) -> Void
    ) {
        var packet = packet
        let id = self.namespace.nextAckId()
        packet.ackId = id
        let sockets = self.targets(options)
        self.notifyOutgoing(packet, to: sockets)
        clientCount(sockets.count)
        guard !sockets.isEmpty else { return }
        for socket in sockets { socket.expectAck(id: id, callback: ack) }
        LocalDelivery.deliver(EncodedMessages(packet, compress: options.compress), to: sockets, volatile: options.volatile)
    }

    /// Tells the `onAnyOutgoing` listeners of the recipients about an event (as Node.js's adapter does);
    /// nothing to do unless some socket of the namespace listens.
    private func notifyOutgoing(_ packet: SocketPacket, to sockets: [Socket], offset: String? = nil) {
        guard self.namespace.hasOutgoingListeners, let event = packet.eventName else { return }
        var arguments = Array(packet.arguments)
        if let offset { arguments.append(.string(offset)) }
        for socket in sockets where socket.hasOutgoingListeners { socket.notifyOutgoing(event, arguments) }
    }

    public func sockets(in rooms: Set<String>) async throws -> Set<String> {
        Set(self.targets(BroadcastOptions(rooms: rooms)).map(\.id))
    }

    public func fetchSockets(_ options: BroadcastOptions) async throws -> [FetchedSocket] {
        self.localSockets(options)
    }

    public func localSockets(_ options: BroadcastOptions) -> [FetchedSocket] {
        self.targets(options).map { FetchedSocket(local: $0) }
    }

    public func addSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        for socket in self.targets(options) { socket.join(rooms) }
    }

    public func delSockets(_ options: BroadcastOptions, rooms: Set<String>) {
        for socket in self.targets(options) {
            for room in rooms { socket.leave(room) }
        }
    }

    public func disconnectSockets(_ options: BroadcastOptions, close: Bool) {
        for socket in self.targets(options) { socket.disconnect(close: close) }
    }

    public func serverSideEmit(_ arguments: [JSONValue], timeout: TimeAmountMilliseconds?) async throws -> [JSONValue] {
        // One node: there is nobody else to tell.
        []
    }

    public func persistSession(_ session: PersistedSession) {
        self.recoveryLog?.persist(session)
    }

    public func restoreSession(pid: String, offset: String) async throws -> RestoredSession? {
        self.recoveryLog?.restore(pid: pid, offset: offset)
    }
}
