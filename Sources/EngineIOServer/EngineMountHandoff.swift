import NIOCore

/// How a mounted connection shares its pipeline with a framework that serves its requests from a task of
/// its own (Hummingbird's `NIOAsyncChannel` per connection): the framework's request-serving part is set up
/// only when the connection's first request for the framework arrives, so that a connection that only ever
/// carries Engine.IO (long-polling requests, then or at once a WebSocket) never has it.
///
/// Confined to the connection's event loop. Exactly one of ``beforeFirstRequest`` and ``withoutRequest`` is
/// called, once.
public struct EngineMountHandoff {
    /// The framework's handlers already in the pipeline after the mount's handler (its codecs, its
    /// connection-state handler). When the connection becomes an Engine.IO WebSocket before any request of
    /// the framework's, they are removed with the HTTP handlers; once a request went to the framework they
    /// stay, behind a barrier, until the connection closes.
    public var handlers: [RemovableChannelHandler]
    /// Called right before the first request for the framework is passed on, to add what serves it at the
    /// end of the pipeline. An error closes the connection.
    public var beforeFirstRequest: (ChannelPipeline.SynchronousOperations) throws -> Void
    /// Called when the connection leaves HTTP for an Engine.IO WebSocket, or closes, before any request for
    /// the framework.
    public var withoutRequest: () -> Void

    /// Creates a handoff.
    public init(
        handlers: [RemovableChannelHandler],
        beforeFirstRequest: @escaping (ChannelPipeline.SynchronousOperations) throws -> Void,
        withoutRequest: @escaping () -> Void
    ) {
        self.handlers = handlers
        self.beforeFirstRequest = beforeFirstRequest
        self.withoutRequest = withoutRequest
    }
}

@available(*, unavailable)
extension EngineMountHandoff: Sendable {}
