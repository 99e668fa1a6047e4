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
    enum Queue: UInt8 {
        case none
        case ping
        case pong
    }

    /// Links a session into one of the queues; stored in the session.
    struct Link {
        var queue: Queue = .none
        var due: NIODeadline = .uptimeNanoseconds(0)
        var next: EngineSocket?
        unowned(unsafe) var previous: EngineSocket?
    }

    private struct List {
        var head: EngineSocket?
        unowned(unsafe) var tail: EngineSocket?
        var timer: Scheduled<Void>?
        var timerDue: NIODeadline?
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
        switch session.heartbeat.queue {
        case .none: return
        case .ping: Self.unlink(session, from: &self.pings)
        case .pong: Self.unlink(session, from: &self.pongs)
        }
        session.heartbeat = Link()
    }

    private func add(_ session: EngineSocket, to queue: Queue, due: NIODeadline) {
        self.remove(session)
        session.heartbeat.queue = queue
        session.heartbeat.due = due
        switch queue {
        case .ping:
            Self.append(session, to: &self.pings)
            self.armTimer(for: .ping)
        case .pong:
            Self.append(session, to: &self.pongs)
            self.armTimer(for: .pong)
        case .none:
            break
        }
    }

    private static func append(_ session: EngineSocket, to list: inout List) {
        if let tail = list.tail {
            tail.heartbeat.next = session
            session.heartbeat.previous = tail
        } else {
            list.head = session
        }
        list.tail = session
    }

    private static func unlink(_ session: EngineSocket, from list: inout List) {
        let next = session.heartbeat.next
        let previous = session.heartbeat.previous
        if let previous { previous.heartbeat.next = next } else { list.head = next }
        if let next { next.heartbeat.previous = previous } else { list.tail = previous }
    }

    /// Makes sure the queue's timer fires for its head (the earliest due session).
    private func armTimer(for queue: Queue) {
        let list = queue == .ping ? self.pings : self.pongs
        guard let head = list.head else { return }
        if let timerDue = list.timerDue, timerDue <= head.heartbeat.due { return }
        list.timer?.cancel()
        let fireAt = head.heartbeat.due
        let timer = self.eventLoop.scheduleTask(deadline: fireAt) { self.fire(queue) }
        switch queue {
        case .ping:
            self.pings.timer = timer
            self.pings.timerDue = fireAt
        case .pong:
            self.pongs.timer = timer
            self.pongs.timerDue = fireAt
        case .none:
            break
        }
    }

    private func fire(_ queue: Queue) {
        switch queue {
        case .ping:
            self.pings.timer = nil
            self.pings.timerDue = nil
        case .pong:
            self.pongs.timer = nil
            self.pongs.timerDue = nil
        case .none:
            return
        }
        let now = NIODeadline.now()
        let horizon = queue == .ping ? now + self.pingLookahead : now
        while let head = queue == .ping ? self.pings.head : self.pongs.head, head.heartbeat.due <= horizon {
            self.remove(head)
            if queue == .ping { head.heartbeatPingDue() } else { head.heartbeatPongMissed() }
        }
        self.armTimer(for: queue)
    }

    /// Stops the timers (the server's sessions are gone).
    func cancelTimers() {
        self.pings.timer?.cancel()
        self.pongs.timer?.cancel()
        self.pings.timer = nil
        self.pongs.timer = nil
        self.pings.timerDue = nil
        self.pongs.timerDue = nil
    }
}
