/// The sockets of one client connection, by namespace name: a connection joins one namespace or a
/// few, so a short array scanned for the name is smaller than a dictionary (no hash table per connection)
/// and as fast.
struct SocketsByNamespace {
    private var entries: [(namespace: String, socket: Socket)] = []

    var isEmpty: Bool { self.entries.isEmpty }

    /// The sockets, in the order they connected.
    var values: [Socket] { self.entries.map(\.socket) }

    subscript(namespace: String) -> Socket? {
        get { self.entries.first { $0.namespace == namespace }?.socket }
        set {
            let index = self.entries.firstIndex { $0.namespace == namespace }
            switch (index, newValue) {
            case (let index?, let socket?): self.entries[index].socket = socket
            case (let index?, nil): self.entries.remove(at: index)
            case (nil, let socket?): self.entries.append((namespace, socket))
            case (nil, nil): break
            }
        }
    }

    mutating func removeAll() {
        self.entries.removeAll()
    }
}
