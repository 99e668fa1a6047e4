import EngineIOCore
import EngineIOServer
import Foundation
import NIOConcurrencyHelpers
import SocketIOCore

/// The page's aggregated events: counts per second and type (`rawConnection`, `rawDisconnection` by
/// reason, `packetsIn`/`packetsOut`, `bytesIn`/`bytesOut`), taken and cleared by every `server_stats`.
/// Also the engine's traffic observer (set only while the admin UI is on), and the count of clients still
/// on long-polling.
final class AdminEventBuffer: EngineTrafficObserver {
    private struct Key: Hashable {
        let timestamp: Int64
        let type: String
        let subType: String?
    }

    private struct State {
        var counts: [Key: Int] = [:]
        var order: [Key] = []
        var pollingClients = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Counts `count` events of `type` (and `subType`) in the current second; with `also`, a second type
    /// under the same lock (a packet and its bytes).
    func push(_ type: String, subType: String? = nil, count: Int = 1, also: (type: String, count: Int)? = nil) {
        let second = Int64(Date().timeIntervalSince1970) * 1000
        let key = Key(timestamp: second, type: type, subType: subType)
        self.state.withLockedValue { state in
            Self.add(key, count, to: &state)
            if let also { Self.add(Key(timestamp: second, type: also.type, subType: nil), also.count, to: &state) }
        }
    }

    private static func add(_ key: Key, _ count: Int, to state: inout State) {
        if let existing = state.counts[key] {
            state.counts[key] = existing + count
        } else {
            state.counts[key] = count
            state.order.append(key)
        }
    }

    var pollingClientsCount: Int { self.state.withLockedValue { $0.pollingClients } }

    /// The events counted since the last call, as the page reads them.
    func takeValues() -> JSONValue {
        let (order, counts) = self.state.withLockedValue { state in
            defer {
                state.counts.removeAll(keepingCapacity: true)
                state.order.removeAll(keepingCapacity: true)
            }
            return (state.order, state.counts)
        }
        return .array(
            order.map { key in
                var object: JSONObject = ["timestamp": .int(Int(key.timestamp)), "type": .string(key.type)]
                if let subType = key.subType { _ = object.updateValue(.string(subType), forKey: "subType") }
                _ = object.updateValue(.int(counts[key] ?? 0), forKey: "count")
                return .object(object)
            }
        )
    }

    // MARK: EngineTrafficObserver

    func sessionOpened(_ session: EngineSocket, transport: EngineTransport) {
        self.push("rawConnection")
        if transport == .polling { self.state.withLockedValue { $0.pollingClients += 1 } }
    }

    func sessionUpgraded(_ session: EngineSocket) {
        self.state.withLockedValue { $0.pollingClients -= 1 }
    }

    func sessionClosed(_ session: EngineSocket, reason: EngineCloseReason, wasPolling: Bool) {
        if wasPolling { self.state.withLockedValue { $0.pollingClients -= 1 } }
        self.push("rawDisconnection", subType: reason.name)
    }

    func messageReceived(_ session: EngineSocket, bytes: Int) {
        self.push("packetsIn", also: ("bytesIn", bytes))
    }

    func messageSent(_ session: EngineSocket, bytes: Int) {
        self.push("packetsOut", also: ("bytesOut", bytes))
    }
}
