import NIOConcurrencyHelpers
import SocketIOServer

/// What the chat remembers in memory: who is online, the rooms and their last messages.
/// (With several nodes this would live in a shared store; see `--redis` in `ChatServer`.)
final class ChatState: Sendable {
    /// How many messages a room keeps for the people who join it.
    static let historyLimit = 50
    /// How many of the last messages have their readers counted (for the sender's ✓✓).
    static let deliveryLimit = 1000

    struct User: Sendable {
        var nickname: String
        var rooms: Set<String> = []
        /// Set while the page's connection is down and may still be recovered: which absence this is
        /// (a later one has a higher number).
        var away: Int?
    }

    struct Message: Sendable {
        var id: Int
        var room: String
        var nickname: String
        var text: String
        var time: Int64

        var json: JSONValue {
            ["id": .int(id), "room": .string(room), "nickname": .string(nickname), "text": .string(text), "time": .int(Int(time))]
        }
    }

    /// Who sent a message, and which other sockets confirmed they received it.
    struct Delivery: Sendable {
        var sender: String
        var clientId: JSONValue
        var readers: Set<String> = []
    }

    private struct State {
        var users: [String: User] = [:]
        var history: [String: [Message]] = [:]
        var deliveries: [Int: Delivery] = [:]
        var nextMessageId = 1
        var admins = 0
        var nextAbsence = 1
    }

    private let state = NIOLockedValueBox(State())

    // MARK: Users

    func connect(_ socketId: String, nickname: String) {
        self.state.withLockedValue { $0.users[socketId] = User(nickname: nickname) }
    }

    /// Forgets the user; returns it (with the rooms it was in).
    func disconnect(_ socketId: String) -> User? {
        self.state.withLockedValue { $0.users.removeValue(forKey: socketId) }
    }

    /// Keeps the user, shown away, while its connection may still be recovered; returns which absence
    /// this is (nil for an unknown user).
    func markAway(_ socketId: String) -> Int? {
        self.state.withLockedValue { state in
            guard state.users[socketId] != nil else { return nil }
            let absence = state.nextAbsence
            state.nextAbsence += 1
            state.users[socketId]?.away = absence
            return absence
        }
    }

    /// The user's page came back (its session recovered) while it was away: true when it was.
    func comeBack(_ socketId: String) -> Bool {
        self.state.withLockedValue { state in
            guard state.users[socketId]?.away != nil else { return false }
            state.users[socketId]?.away = nil
            return true
        }
    }

    /// Forgets the user if it is still away since `absence` (it did not come back in time); returns it.
    func departIfStillAway(_ socketId: String, absence: Int) -> User? {
        self.state.withLockedValue { state in
            guard state.users[socketId]?.away == absence else { return nil }
            return state.users.removeValue(forKey: socketId)
        }
    }

    func user(_ socketId: String) -> User? {
        self.state.withLockedValue { $0.users[socketId] }
    }

    /// Renames; returns the old name.
    func rename(_ socketId: String, to nickname: String) -> String? {
        self.state.withLockedValue { state in
            let old = state.users[socketId]?.nickname
            state.users[socketId]?.nickname = nickname
            return old
        }
    }

    /// Records that the user joined `room`; false when it was already there. Returns the room's history.
    func join(_ socketId: String, room: String) -> (joined: Bool, history: [Message]) {
        self.state.withLockedValue { state in
            let joined = state.users[socketId]?.rooms.insert(room).inserted ?? false
            return (joined, state.history[room] ?? [])
        }
    }

    /// Records that the user left `room`; false when it was not there.
    func leave(_ socketId: String, room: String) -> Bool {
        self.state.withLockedValue { state in
            state.users[socketId]?.rooms.remove(room) != nil
        }
    }

    // MARK: Messages

    /// Stores a message in its room's history (keeping the last `historyLimit`).
    func post(room: String, nickname: String, text: String, time: Int64) -> Message {
        self.state.withLockedValue { state in
            let message = Message(id: state.nextMessageId, room: room, nickname: nickname, text: text, time: time)
            state.nextMessageId += 1
            var history = state.history[room] ?? []
            history.append(message)
            if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
            state.history[room] = history
            return message
        }
    }

    /// Remembers who sent message `id`, to count its readers.
    func track(_ id: Int, sender: String, clientId: JSONValue) {
        self.state.withLockedValue { state in
            state.deliveries[id] = Delivery(sender: sender, clientId: clientId)
            state.deliveries[id - Self.deliveryLimit] = nil  // ids grow by one: the oldest goes
        }
    }

    /// `reader` received message `id`; returns the delivery with its new reader count, or nil when the message
    /// is unknown (or too old), the reader is its sender, or it was counted already.
    func received(_ id: Int, by reader: String) -> (delivery: Delivery, count: Int)? {
        self.state.withLockedValue { state in
            guard var delivery = state.deliveries[id], delivery.sender != reader,
                delivery.readers.insert(reader).inserted
            else { return nil }
            state.deliveries[id] = delivery
            return (delivery, delivery.readers.count)
        }
    }

    // MARK: Admins and summaries

    func adminConnected() { self.state.withLockedValue { $0.admins += 1 } }
    func adminDisconnected() { self.state.withLockedValue { $0.admins -= 1 } }

    /// Who is online (sorted by name) and the rooms with their member counts.
    var presence: JSONValue {
        self.state.withLockedValue { state in
            let users = state.users
                .sorted { ($0.value.nickname.lowercased(), $0.key) < ($1.value.nickname.lowercased(), $1.key) }
                .map { id, user -> JSONValue in
                    [
                        "id": .string(id), "nickname": .string(user.nickname), "rooms": .array(user.rooms.sorted().map { .string($0) }),
                        "away": .bool(user.away != nil),
                    ]
                }
            return ["users": .array(users), "rooms": Self.roomCounts(state)]
        }
    }

    /// The figures of the admin page.
    var stats: JSONValue {
        self.state.withLockedValue { state in
            let messages = state.history.values.reduce(0) { $0 + $1.count }
            return [
                "connections": .int(state.users.count),
                "admins": .int(state.admins),
                "rooms": Self.roomCounts(state),
                "roomCount": .int(Set(state.users.values.flatMap(\.rooms)).count),
                "storedMessages": .int(messages),
            ]
        }
    }

    private static func roomCounts(_ state: State) -> JSONValue {
        var counts: [String: Int] = [:]
        for user in state.users.values { for room in user.rooms { counts[room, default: 0] += 1 } }
        return .array(counts.sorted { $0.key < $1.key }.map { ["name": .string($0.key), "members": .int($0.value)] })
    }
}
