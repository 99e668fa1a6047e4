import NIOConcurrencyHelpers
import NIOCore
import SocketIOCore

/// Requests to the other nodes waiting for their answers: each expects a number of answers, gathers
/// their items, and completes when all came or fails with `RedisError.requestTimeout` when its time is
/// up. Bounded: past `limit` waiting requests, new ones fail at once.
final class PendingRequests: Sendable {
    private struct Entry {
        var tag: Int
        var expected: Int
        var received = 0
        var items: [JSONValue] = []
        var what: String
        var promise: EventLoopPromise<[JSONValue]>
        var timer: Scheduled<Void>?
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    private let limit: Int

    init(limit: Int = 10_000) {
        self.limit = limit
    }

    /// Registers request `id` (of kind `tag`) expecting `expected` answers (which start with `initial`);
    /// the future has every answer's items, or fails after `timeout`.
    func start(id: String, tag: Int, expected: Int, initial: [JSONValue] = [], timeout: TimeAmount, on eventLoop: EventLoop, what: String) -> EventLoopFuture<[JSONValue]> {
        let promise = eventLoop.makePromise(of: [JSONValue].self)
        let accepted = self.entries.withLockedValue { entries -> Bool in
            guard entries.count < self.limit else { return false }
            entries[id] = Entry(tag: tag, expected: expected, items: initial, what: what, promise: promise)
            return true
        }
        guard accepted else {
            promise.fail(RedisError.tooManyPendingCommands)
            return promise.futureResult
        }
        let timer = eventLoop.scheduleTask(in: timeout) { [weak self] in
            guard let expired = self?.entries.withLockedValue({ $0.removeValue(forKey: id) }) else { return }
            expired.promise.fail(RedisError.requestTimeout("\(expired.what) (\(expired.received) of \(expired.expected) nodes answered)"))
        }
        self.entries.withLockedValue { entries in
            if entries[id] != nil { entries[id]!.timer = timer } else { timer.cancel() }
        }
        return promise.futureResult
    }

    /// Counts one answer to request `id`: `items` gets the request's tag and returns what to keep.
    func answer(id: String, items: (Int) -> [JSONValue]) {
        let finished = self.entries.withLockedValue { entries -> Entry? in
            guard var entry = entries[id] else { return nil }
            entry.received += 1
            entry.items.append(contentsOf: items(entry.tag))
            if entry.received >= entry.expected {
                entries[id] = nil
                return entry
            }
            entries[id] = entry
            return nil
        }
        guard let finished else { return }
        finished.timer?.cancel()
        finished.promise.succeed(finished.items)
    }
}
