import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// Switches an HTTP/1.1 connection to WebSocket on any request of a keep-alive connection (NIO's
/// `NIOWebSocketServerUpgrader` only looks at a connection's first request).
public enum WebSocketUpgrade {
    /// Answers an accepted handshake with `101 Switching Protocols` and turns the pipeline into a WebSocket one.
    ///
    /// Contract:
    /// - The pipeline is exactly `HTTPResponseEncoder()`, `ByteToMessageHandler(HTTPRequestDecoder(
    ///   leftOverBytesStrategy: .forwardBytes))`, then the calling handler (InboundIn = `HTTPServerRequestPart`,
    ///   OutboundOut = `HTTPServerResponsePart`, and a `RemovableChannelHandler`). Handlers after it (a
    ///   framework's, when mounted) stay: the WebSocket handlers go between them and the caller.
    /// - Call it on the event loop once the upgrade request's `.end` has been received: from `channelRead` of
    ///   `.end`, or later (after an asynchronous check). Not on `.head`: the decoder would then hand `.end` to
    ///   the WebSocket handlers. Bytes the client sends meanwhile wait in the HTTP decoder (it stops parsing
    ///   after an upgrade request), so the calling handler receives no further parts.
    /// - `context` is the calling handler's context. `httpHandlers` are the HTTP handlers to remove: the
    ///   response encoder and the request decoder (order does not matter; the calling handler may be listed
    ///   too). The calling handler is always removed; after this call it must not use `context` any more.
    /// - It writes and flushes the 101 response (with `accepted.headers`) through the HTTP encoder, adds after
    ///   the calling handler a ``WebSocketMessageHandler`` (which parses and writes frames itself), then calls
    ///   `addHandlers` to add the application's handler(s) after it (`addHandler(_:)` appends at the end,
    ///   which is right after the message handler when nothing followed the caller; otherwise position
    ///   them), then removes the
    ///   calling handler and `httpHandlers`. Bytes the client sent right after its request (already read by the
    ///   HTTP decoder) are forwarded to the message handler when the HTTP decoder leaves, on a later loop tick, so
    ///   no frame is lost.
    /// - The returned future succeeds once every HTTP handler is gone; a `channelReadComplete` is then fired
    ///   so that messages from forwarded bytes get flushed by handlers that flush on read-complete. If adding handlers throws, the channel
    ///   is closed and the future fails with that error.
    ///
    /// - Parameters:
    ///   - context: the calling HTTP handler's context.
    ///   - accepted: the result of ``WebSocketHandshake/accept(_:configuration:)``.
    ///   - configuration: the same configuration the handshake used.
    ///   - httpHandlers: the HTTP encoder and decoder handlers to remove.
    ///   - logger: given to the ``WebSocketMessageHandler``.
    ///   - addHandlers: adds the application's handler(s), which receive and send ``WebSocketMessage``.
    /// - Returns: a future completed when the pipeline has been switched.
    public static func upgrade(
        context: ChannelHandlerContext,
        accepted: WebSocketHandshake.Accepted,
        configuration: WebSocketConfiguration,
        removing httpHandlers: [RemovableChannelHandler],
        logger: Logger? = nil,
        then addHandlers: @escaping (ChannelPipeline.SynchronousOperations) throws -> Void
    ) -> EventLoopFuture<Void> {
        context.eventLoop.preconditionInEventLoop()
        let pipeline = context.pipeline.syncOperations
        context.write(NIOAny(HTTPServerResponsePart.head(accepted.responseHead)), promise: nil)
        context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
        do {
            try pipeline.addHandler(
                WebSocketMessageHandler(
                    configuration: configuration,
                    permessageDeflate: accepted.permessageDeflate,
                    logger: logger
                ),
                position: .after(context.handler)
            )
            try addHandlers(pipeline)
        } catch {
            context.close(promise: nil)
            return context.eventLoop.makeFailedFuture(error)
        }
        // The caller leaves first, so that the decoder's forwarded bytes reach the message handler.
        var removals: [EventLoopFuture<Void>] = [pipeline.removeHandler(context: context)]
        for handler in httpHandlers where ObjectIdentifier(handler) != ObjectIdentifier(context.handler) {
            removals.append(pipeline.removeHandler(handler))
        }
        let channel = context.channel
        return EventLoopFuture.andAllSucceed(removals, on: context.eventLoop).assumeIsolated().map {
            // Forwarded leftover bytes arrive without a read-complete; send one so that handlers which
            // flush on read-complete answer them.
            channel.pipeline.syncOperations.fireChannelReadComplete()
        }.nonisolated()
    }
}
