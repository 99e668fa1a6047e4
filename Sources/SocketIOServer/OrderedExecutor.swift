import DequeModule
import NIOConcurrencyHelpers

/// Runs one socket's handlers one after another, in the order they were submitted, without a `Task` per
/// event and without any task while idle.
///
/// A job is a synchronous closure that either finishes its work and returns nil, or returns the
/// asynchronous rest of its work. While nothing else runs, a job executes at once on the caller's thread
/// (the event loop, for incoming packets); the first job that has asynchronous work starts one `Task`,
/// which then drains the queue and ends when it is empty.
final class OrderedExecutor: Sendable {
    /// A unit of work: returns the asynchronous remainder, if any.
    typealias Job = @Sendable () -> (@Sendable () async -> Void)?

    private struct State {
        var running = false
        var queue = Deque<Job>()
    }

    private let state = NIOLockedValueBox(State())

    init() {}

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
        var next: Job? = job
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

    private func drain() async {
        while let job = self.dequeue() {
            if let remainder = job() { await remainder() }
        }
    }
}
