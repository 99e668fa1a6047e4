import NIOCore

/// Flushes, once per event-loop tick, every session of one loop that was written to during the tick,
/// so that a broadcast to thousands of sessions schedules one task instead of one per session, and a burst
/// of messages to one client leaves in one write system call.
///
/// Confined to its event loop: every method must be called there.
final class FlushCoalescer: @unchecked Sendable {
    let eventLoop: EventLoop
    private var dirty: [EngineSocket] = []
    private var scheduled = false

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Remembers `session` for the flush at the end of this tick.
    func markDirty(_ session: EngineSocket) {
        self.eventLoop.assertInEventLoop()
        self.dirty.append(session)
        guard !self.scheduled else { return }
        self.scheduled = true
        self.eventLoop.execute { self.flushAll() }
    }

    private func flushAll() {
        self.scheduled = false
        var sessions: [EngineSocket] = []
        swap(&sessions, &self.dirty)
        for session in sessions { session.flushIfDirty() }
        sessions.removeAll(keepingCapacity: true)
        if self.dirty.isEmpty { swap(&sessions, &self.dirty) }
    }
}
