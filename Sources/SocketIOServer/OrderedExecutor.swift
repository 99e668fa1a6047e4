import DequeModule
import NIOConcurrencyHelpers
import NIOCore

/// Runs one socket's handlers one after another, in the order they were submitted, without a `Task` per
/// event and without any task while idle.
///
/// A job is a synchronous closure that either finishes its work and returns nil, or returns the
/// asynchronous rest of its work. While nothing else runs, a job executes at once on the caller's thread
/// (the event loop, for incoming packets); the first job that has asynchronous work starts one `Task`,
/// which then drains the queue.
///
/// When that task runs out of jobs it hands the executor back through the event loop rather than simply
/// stopping: the writes its handlers made from the task's thread were queued on the loop, and a job that
/// later runs on the loop itself writes directly. Going through the loop's queue first keeps what the
/// client receives in handler order (a connection handler's emit before the answer to an event that
/// arrived just after it).
///
/// The executor's owner may keep its own state under the executor's lock (`Shared`, see
/// `withLockedShared(_:)`): one lock and one allocation per socket instead of two.
final class OrderedExecutor<Shared>: @unchecked Sendable {  // Shared is only reached under the lock
    /// A unit of work: returns the asynchronous remainder, if any.
    typealias Job = @Sendable () -> (@Sendable () async -> Void)?

    private struct State {
        var running = false
        var queue = Deque<Job>()
        var shared: Shared
    }

    private let eventLoop: EventLoop
    private let state: NIOLockedValueBox<State>

    init(eventLoop: EventLoop, shared: Shared) {
        self.eventLoop = eventLoop
        self.state = NIOLockedValueBox(State(shared: shared))
    }

    /// Reads or changes the owner's state under the executor's lock.
    func withLockedShared<Result>(_ body: (inout Shared) throws -> Result) rethrows -> Result {
        try self.state.withLockedValue { try body(&$0.shared) }
    }

    /// Runs `job` after every job submitted before it.
    func submit(_ job: @escaping Job) {
        let runNow = self.state.withLockedValue { state -> Bool in
            if state.running {
                state.queue.append(job)
                return false
            }
            state.running = true
            return true
        }
        guard runNow else { return }
        self.run(job)
    }

    /// When no job runs or waits, claims the executor for a job that the caller runs at once on its own
    /// thread (no closure made for it); the caller must then call `finishClaimed(_:)` with the job's
    /// asynchronous rest. Returns false when jobs are pending: the caller submits its job instead.
    func claimIfIdle() -> Bool {
        self.state.withLockedValue { state -> Bool in
            guard !state.running else { return false }
            state.running = true
            return true
        }
    }

    /// Ends a job run after `claimIfIdle()`: its asynchronous rest, if any, continues in a task (followed
    /// by the jobs queued meanwhile); otherwise the jobs queued meanwhile run now.
    func finishClaimed(_ remainder: (@Sendable () async -> Void)?) {
        guard let remainder else {
            self.run(nil)
            return
        }
        Task {
            await remainder()
            await self.drain()
        }
    }

    /// Runs `first` and then every queued job on the calling thread, until the queue is empty or a job
    /// has asynchronous work (which then continues in a task).
    private func run(_ first: Job?) {
        var next = first ?? self.dequeue()
        while let current = next {
            if let remainder = current() {
                Task {
                    await remainder()
                    await self.drain()
                }
                return
            }
            next = self.dequeue()
        }
    }

    private func dequeue() -> Job? {
        self.state.withLockedValue { state -> Job? in
            guard let job = state.queue.popFirst() else {
                state.running = false
                return nil
            }
            return job
        }
    }

    /// Runs queued jobs in the task; when none is left, the event loop takes over (still "running", so
    /// that jobs submitted meanwhile queue up behind the task's writes).
    private func drain() async {
        while true {
            let job = self.state.withLockedValue { $0.queue.popFirst() }
            guard let job else { break }
            if let remainder = job() { await remainder() }
        }
        self.eventLoop.execute { self.run(nil) }
    }
}

extension OrderedExecutor where Shared == Void {
    /// An executor without state of its owner's.
    convenience init(eventLoop: EventLoop) {
        self.init(eventLoop: eventLoop, shared: ())
    }
}
