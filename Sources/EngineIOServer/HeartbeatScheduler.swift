import NIOCore

/// The heartbeat timers of every session of one event loop: one NIO timer per loop instead of one
/// scheduled task (with its promise, closure and weak reference, about 300 bytes) per session.
///
/// A session waits either for its next ping (due `pingInterval` after it was queued) or for the pong to
/// its last ping (due `pingTimeout` after the ping). Both delays are the server's constants, so each
/// queue is ordered by due time simply by appending: the queues are intrusive doubly-linked lists
/// threaded through the sessions themselves (O(1) to add and to remove, no allocation), and the loop's
/// timer only ever needs to wake for the head of each. The timers fire when the head is due; pings due
/// within the next few milliseconds (`pingLookahead`) go out in the same batch, a little early, which
/// the protocol allows (a client only minds pings that come late). Pong deadlines are exact.
///
/// Confined to its event loop: every method must be called there.
final class HeartbeatScheduler: @unchecked Sendable {
    enum Queue {
        /// Waiting for the next ping.
        case ping
        /// Waiting for the pong to the last ping.
        case pong
    }

    /// Links a session into one of the queues; stored in the session.
    struct Link {
        var queue: Queue?
        var due: NIODeadline = .uptimeNanoseconds(0)
        var next: EngineSocket?
        unowned(unsafe) var previous: EngineSocket?
    }

    private struct List {
        var head: EngineSocket?
        unowned(unsafe) var tail: EngineSocket?
        /// The timer armed for this queue and when it fires.
        var timer: (task: Scheduled<Void>, due: NIODeadline)?
    }

    let eventLoop: EventLoop
    private let pingInterval: TimeAmount
    private let pingTimeout: TimeAmount
    private let pingLookahead: TimeAmount
    private var pings = List()
    private var pongs = List()

    init(eventLoop: EventLoop, pingInterval: TimeAmount, pingTimeout: TimeAmount, pingLookahead: TimeAmount = .milliseconds(5)) {
        self.eventLoop = eventLoop
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.pingLookahead = pingLookahead
    }

    private subscript(queue: Queue) -> List {
        get { queue == .ping ? self.pings : self.pongs }
        set {
            switch queue {
            case .ping: self.pings = newValue
            case .pong: self.pongs = newValue
            }
        }
    }

    /// The session's next ping is due `pingInterval` from now.
    func schedulePing(_ session: EngineSocket) {
        self.add(session, to: .ping, due: .now() + self.pingInterval)
    }

    /// The session's pong is due `pingTimeout` from now; returns that deadline.
    @discardableResult
    func awaitPong(_ session: EngineSocket) -> NIODeadline {
        let due = NIODeadline.now() + self.pingTimeout
        self.add(session, to: .pong, due: due)
        return due
    }

    /// Takes the session out of whichever queue it is in.
    func remove(_ session: EngineSocket) {
        self.eventLoop.assertInEventLoop()
        guard let queue = session.heartbeat.queue else { return }
        let next = session.heartbeat.next
        let previous = session.heartbeat.previous
        if let previous { previous.heartbeat.next = next } else { self[queue].head = next }
        if let next { next.heartbeat.previous = previous } else { self[queue].tail = previous }
        session.heartbeat = Link()
    }

    private func add(_ session: EngineSocket, to queue: Queue, due: NIODeadline) {
        self.remove(session)
        session.heartbeat.queue = queue
        session.heartbeat.due = due
        if let tail = self[queue].tail {
            tail.heartbeat.next = session
            session.heartbeat.previous = tail
        } else {
            self[queue].head = session
        }
        self[queue].tail = session
        self.armTimer(for: queue)
    }

    /// Makes sure the queue's timer fires for its head (the earliest due session).
    private func armTimer(for queue: Queue) {
        guard let head = self[queue].head else { return }
        let due = head.heartbeat.due
        if let timer = self[queue].timer {
            if timer.due <= due { return }
            timer.task.cancel()
        }
        self[queue].timer = (self.eventLoop.scheduleTask(deadline: due) { self.fire(queue) }, due)
    }

    private func fire(_ queue: Queue) {
        self[queue].timer = nil
        let now = NIODeadline.now()
        let horizon = queue == .ping ? now + self.pingLookahead : now
        while let head = self[queue].head, head.heartbeat.due <= horizon {
            self.remove(head)
            switch queue {
            case .ping: head.heartbeatPingDue()
            case .pong: head.heartbeatPongMissed()
            }
        }
        self.armTimer(for: queue)
    }
}
