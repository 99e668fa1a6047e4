import NIOPosix

/// The connection whose event handler is running, if any: the publisher that flow control slows down
/// when what it sends lands on congested recipients.
///
/// Synchronous handlers run on their connection's event loop: the publisher is then kept in a slot of
/// that thread, set and restored around the dispatch (a task-local value would cost two allocations per
/// event outside a task). The asynchronous rest of a dispatch runs in a task, with a task-local value.
enum PublishingConnection {
    /// The publisher of the synchronous dispatch running on this thread.
    final class Slot: @unchecked Sendable {  // only touched by its own thread
        var connection: ClientConnection?
    }

    private static let slots = ThreadSpecificVariable<Slot>()

    @TaskLocal private static var inTask: ClientConnection?

    /// The publisher of the handler running on this thread or in this task, if any.
    static var current: ClientConnection? {
        if let connection = Self.slots.currentValue?.connection { return connection }
        return Self.inTask
    }

    /// Runs `body` (synchronous) with `connection` as the publisher.
    static func withPublisher<Result>(_ connection: ClientConnection, _ body: () -> Result) -> Result {
        let slot: Slot
        if let existing = Self.slots.currentValue {
            slot = existing
        } else {
            slot = Slot()
            Self.slots.currentValue = slot
        }
        let previous = slot.connection
        slot.connection = connection
        defer { slot.connection = previous }
        return body()
    }

    /// Runs `body` (asynchronous) with `connection` as the publisher.
    static func withPublisher(_ connection: ClientConnection, _ body: () async -> Void) async {
        await Self.$inTask.withValue(connection) { await body() }
    }
}
