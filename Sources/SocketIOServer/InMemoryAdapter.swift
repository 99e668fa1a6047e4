import NIOConcurrencyHelpers
import SocketIOCore

/// The default adapter: rooms in this process's memory; broadcasts reach this node's sockets only.
public final class InMemoryAdapter: Adapter {
    private struct State {
        /// room → socket ids
        var rooms: [String: Set<String>] = [:]
        /// socket id → rooms
        var sids: [String: Set<String>] = [:]
    }

    /// The namespace whose rooms this adapter keeps.
    public unowned let namespace: Namespace
    private let state = NIOLockedValueBox(State())

    /// Creates the adapter of `namespace`.
    public init(namespace: Namespace) {
        self.namespace = namespace
    }

    public func addAll(_ id: String, rooms: Set<String>) {
        self.state.withLockedValue { state in
            state.sids[id, default: []].formUnion(rooms)
            for room in rooms { state.rooms[room, default: []].insert(id) }
        }
    }

    public func del(_ id: String, room: String) {
        self.state.withLockedValue { state in
            state.sids[id]?.remove(room)
            Self.remove(id, from: room, in: &state)
        }
    }

    public func delAll(_ id: String) {
        self.state.withLockedValue { state in
            guard let rooms = state.sids.removeValue(forKey: id) else { return }
            for room in rooms { Self.remove(id, from: room, in: &state) }
        }
    }

    private static func remove(_ id: String, from room: String, in state: inout State) {
        guard var members = state.rooms.removeValue(forKey: room) else { return }
        members.remove(id)
        if !members.isEmpty { state.rooms[room] = members }
    }

    public func socketRooms(_ id: String) -> Set<String>? {
        self.state.withLockedValue { $0.sids[id] }
    }

    public var rooms: [String: Set<String>] {
        self.state.withLockedValue { $0.rooms }
    }

    /// The local sockets `options` selects: members of any target room (each once), minus members of any
    /// excepted room.
    public func targets(_ options: BroadcastOptions) -> [Socket] {
        let ids: [String] = self.state.withLockedValue { state in
            let excluded: Set<String>
            if options.except.isEmpty {
                excluded = []
            } else {
                excluded = options.except.reduce(into: Set<String>()) { result, room in
                    if let members = state.rooms[room] { result.formUnion(members) }
                }
            }
            var result: [String] = []
            if options.rooms.isEmpty {
                result.reserveCapacity(state.sids.count)
                for id in state.sids.keys where !excluded.contains(id) { result.append(id) }
            } else if options.rooms.count == 1, let members = state.rooms[options.rooms.first!] {
                result.reserveCapacity(members.count)
                for id in members where !excluded.contains(id) { result.append(id) }
            } else {
                var seen = Set<String>()
                for room in options.rooms {
                    guard let members = state.rooms[room] else { continue }
                    for id in members where !excluded.contains(id) && seen.insert(id).inserted { result.append(id) }
                }
            }
            return result
        }
        return self.namespace.localSockets(ids)
    }

    public func broadcast(_ packet: SocketPacket, options: BroadcastOptions) {
        let sockets = self.targets(options)
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
        clientCount(sockets.count)
        guard !sockets.isEmpty else { return }
        for socket in sockets { socket.expectAck(id: id, callback: ack) }
        LocalDelivery.deliver(EncodedMessages(packet, compress: options.compress), to: sockets, volatile: options.volatile)
    }

    public func sockets(in rooms: Set<String>) async throws -> Set<String> {
        Set(self.targets(BroadcastOptions(rooms: rooms)).map(\.id))
    }

    public func fetchSockets(_ options: BroadcastOptions) async throws -> [RemoteSocket] {
        self.targets(options).map { RemoteSocket(local: $0) }
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
}
