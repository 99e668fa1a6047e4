import DequeModule
import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore

/// Connection state recovery in one process, for one namespace: the recent event packets (with the rooms
/// they were sent to) and the sessions of sockets that disconnected, both kept for the recovery window.
///
/// Each packet gets an offset, a string made of this log's random prefix and a counter, appended as the
/// packet's last argument; the packets are kept encoded (the very buffers every recipient was sent), so a
/// packet costs its wire size once whatever the number of recipients. Bounded by age
/// (`maxDisconnectionDuration`) and by size (`maxBufferedBytes`, oldest first).
///
/// Offsets are given and packets appended under one lock, so the log's order is the order of the offsets.
final class RecoveryLog: Sendable {
    struct Entry: Sendable {
        let counter: UInt64
        let rooms: Set<String>
        let except: Set<String>
        let encoded: EncodedMessages
        let bytes: Int
        let time: NIODeadline
    }

    private struct StoredSession {
        var session: PersistedSession
        var disconnectedAt: NIODeadline
    }

    private struct State {
        var entries = Deque<Entry>()
        var bytes = 0
        var nextCounter: UInt64 = 1
        var sessions: [String: StoredSession] = [:]
    }

    let configuration: ConnectionStateRecovery
    /// Random per log, so that an offset from another process or namespace never matches.
    let prefix: String
    private let state = NIOLockedValueBox(State())

    init(configuration: ConnectionStateRecovery, prefix: String = RecoveryLog.makePrefix()) {
        self.configuration = configuration
        self.prefix = prefix
    }

    static func makePrefix() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        return String(decoding: (0..<8).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] }, as: UTF8.self) + "-"
    }

    /// The offset string of counter `counter`.
    func offset(_ counter: UInt64) -> String { self.prefix + String(counter) }

    /// The counter of an offset of this log, if it is one.
    func counter(of offset: String) -> UInt64? {
        guard offset.hasPrefix(self.prefix) else { return nil }
        return UInt64(offset.dropFirst(self.prefix.count))
    }

    /// Gives `packet` the next offset (as its last argument), encodes it and keeps it; returns the encoded
    /// packet for delivery, and the offset.
    func record(_ packet: SocketPacket, options: BroadcastOptions, now: NIODeadline = .now()) -> (encoded: EncodedMessages, offset: String) {
        self.state.withLockedValue { state in
            let counter = state.nextCounter
            state.nextCounter += 1
            let offset = self.offset(counter)
            var packet = packet
            if case .array(var array) = packet.data {
                array.append(.string(offset))
                packet.data = .array(array)
            }
            let encoded = EncodedMessages(packet, compress: options.compress)
            let bytes = encoded.frames.reduce(0) { $0 + $1.bytes.readableBytes }
            state.entries.append(Entry(counter: counter, rooms: options.rooms, except: options.except, encoded: encoded, bytes: bytes, time: now))
            state.bytes += bytes
            self.evict(&state, now: now)
            return (encoded, offset)
        }
    }

    /// Keeps a disconnected socket's session until the window ends.
    func persist(_ session: PersistedSession, now: NIODeadline = .now()) {
        self.state.withLockedValue { $0.sessions[session.pid] = StoredSession(session: session, disconnectedAt: now) }
    }

    /// Takes the session `pid` back (it can be recovered once) with the packets sent after `offset` to its
    /// rooms; nil when the session is unknown or expired, or packets after `offset` were dropped.
    func restore(pid: String, offset: String, now: NIODeadline = .now()) -> RestoredSession? {
        self.state.withLockedValue { state -> RestoredSession? in
            guard let stored = state.sessions.removeValue(forKey: pid) else { return nil }
            guard stored.disconnectedAt + self.configuration.maxDisconnectionDuration >= now else { return nil }
            self.evict(&state, now: now)
            guard let seen = self.counter(of: offset), seen < state.nextCounter else { return nil }
            let first = state.entries.first?.counter ?? state.nextCounter
            // Every packet after `seen` must still be here.
            guard seen + 1 >= first else { return nil }
            let rooms = stored.session.rooms
            var missed: [EncodedMessages] = []
            for entry in state.entries.dropFirst(Int(seen + 1 - first)) where Self.reaches(entry, rooms: rooms) {
                missed.append(entry.encoded)
            }
            return RestoredSession(session: stored.session, missedPackets: missed)
        }
    }

    /// Drops expired sessions and packets.
    func prune(now: NIODeadline = .now()) {
        self.state.withLockedValue { state in
            self.evict(&state, now: now)
            let window = self.configuration.maxDisconnectionDuration
            state.sessions = state.sessions.filter { $0.value.disconnectedAt + window >= now }
        }
    }

    /// The packets kept and their bytes (for tests and metrics).
    var usage: (packets: Int, bytes: Int, sessions: Int) {
        self.state.withLockedValue { ($0.entries.count, $0.bytes, $0.sessions.count) }
    }

    private func evict(_ state: inout State, now: NIODeadline) {
        let oldest = now - self.configuration.maxDisconnectionDuration
        while let first = state.entries.first, state.bytes > self.configuration.maxBufferedBytes || first.time < oldest {
            state.entries.removeFirst()
            state.bytes -= first.bytes
        }
    }

    /// Whether a socket in `rooms` was a recipient of `entry` (Socket.IO's `shouldIncludePacket`).
    static func reaches(_ entry: Entry, rooms: Set<String>) -> Bool {
        let included = entry.rooms.isEmpty || !entry.rooms.isDisjoint(with: rooms)
        return included && entry.except.isDisjoint(with: rooms)
    }
}
