import NIOCore

/// Writes one encoded packet to many local sockets: one task per event loop (or none when the caller is on
/// that loop), each writing the same shared buffers to every target socket of its loop.
enum LocalDelivery {
    static func deliver(_ encoded: EncodedMessages, to sockets: [Socket], volatile: Bool) {
        SocketIOMetrics.broadcasts.increment()
        SocketIOMetrics.recipients.increment(by: sockets.count)
        if sockets.count == 1 {
            let socket = sockets[0]
            socket.connection.eventLoop.executeOrRun { socket.deliver(encoded, volatile: volatile) }
            return
        }
        var byLoop: [ObjectIdentifier: (EventLoop, [Socket])] = [:]
        for socket in sockets {
            let loop = socket.connection.eventLoop
            byLoop[ObjectIdentifier(loop), default: (loop, [])].1.append(socket)
        }
        for (_, (loop, group)) in byLoop {
            loop.executeOrRun {
                for socket in group { socket.deliver(encoded, volatile: volatile) }
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
