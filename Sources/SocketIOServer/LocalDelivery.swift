import NIOCore

/// Writes one encoded packet to many local sockets: one task per event loop (or none when the caller is on
/// that loop), each writing the same shared buffers to every target socket of its loop.
enum LocalDelivery {
    static func deliver(_ encoded: EncodedMessages, to sockets: [Socket], volatile: Bool) {
        guard let first = sockets.first else { return }
        SocketIOMetrics.broadcasts.increment()
        SocketIOMetrics.recipients.increment(by: sockets.count)
        // The connection whose handler is sending, slowed down by flow control if recipients are congested.
        let publisher = PublishingConnection.current
        let firstLoop = first.eventLoop
        // The common case (one event loop, or every target on the same one): no grouping at all.
        if sockets.allSatisfy({ $0.eventLoop === firstLoop }) {
            firstLoop.executeOrRun {
                for socket in sockets { socket.deliver(encoded, volatile: volatile, publisher: publisher) }
            }
            return
        }
        // A few loops: group with a linear search over them (no dictionary, no hashing per socket).
        var loops: [EventLoop] = []
        var groups: [[Socket]] = []
        for socket in sockets {
            let loop = socket.eventLoop
            if let index = loops.firstIndex(where: { $0 === loop }) {
                groups[index].append(socket)
            } else {
                loops.append(loop)
                groups.append([socket])
            }
        }
        for (loop, group) in zip(loops, groups) {
            loop.executeOrRun {
                for socket in group { socket.deliver(encoded, volatile: volatile, publisher: publisher) }
            }
        }
    }
}

extension EventLoop {
    /// Runs `work` now when on this loop (keeping order with direct writes), else schedules it.
    @inlinable
    func executeOrRun(_ work: @escaping @Sendable () -> Void) {
        if self.inEventLoop { work() } else { self.execute(work) }
    }
}
