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
final class OrderedExecutor: Sendable {
    /// A unit of work: returns the asynchronous remainder, if any.
    typealias Job = @Sendable () -> (@Sendable () async -> Void)?

    private struct State {
        var running = false
        var queue = Deque<Job>()
    }

    private let eventLoop: EventLoop
    private let state = NIOLockedValueBox(State())

    init(eventLoop: EventLoop) {
        self.eventLoop = eventLoop
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
