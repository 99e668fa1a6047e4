/// A namespace's connected sockets: found by id, and iterated in the order they connected (as Node.js's
/// `Map` does), which is the order broadcasts to everyone reach them.
///
/// Removal leaves a hole in the ordered list (O(1)); the list is compacted once holes make up half of it.
/// Generic so that its bookkeeping is tested without connections.
struct SocketRegistry<Element: AnyObject & Identifiable & Sendable>: Sendable where Element.ID == String {
    private struct Entry {
        let socket: Element
        var slot: Int
    }

    private var byID: [String: Entry] = [:]
    private var order: [Element?] = []
    private var holes = 0

    var count: Int { self.byID.count }

    subscript(id: String) -> Element? { self.byID[id]?.socket }

    /// Every socket, by id.
    var dictionary: [String: Element] { self.byID.mapValues(\.socket) }

    mutating func add(_ socket: Element) {
        if let existing = self.byID[socket.id] { self.order[existing.slot] = nil; self.holes += 1 }
        self.order.append(socket)
        self.byID[socket.id] = Entry(socket: socket, slot: self.order.count - 1)
    }

    /// Removes `socket` (not another socket that happens to have its id).
    mutating func remove(_ socket: Element) {
        guard let entry = self.byID[socket.id], entry.socket === socket else { return }
        self.byID[socket.id] = nil
        self.order[entry.slot] = nil
        self.holes += 1
        if self.holes >= 16 && self.holes * 2 >= self.order.count { self.compact() }
    }

    private mutating func compact() {
        self.order.removeAll { $0 == nil }
        for (slot, socket) in self.order.enumerated() { self.byID[socket!.id]!.slot = slot }
        self.holes = 0
    }

    /// The sockets in connection order, but those whose id is in `excluded`.
    func inOrder(excluding excluded: Set<String>) -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(self.byID.count)
        switch excluded.count {
        case 0:
            for case let socket? in self.order { result.append(socket) }
        case 1:
            let only = excluded.first!
            for case let socket? in self.order where socket.id != only { result.append(socket) }
        default:
            for case let socket? in self.order where !excluded.contains(socket.id) { result.append(socket) }
        }
        return result
    }
}
