import EngineIOCore
import NIOCore
import NIOExtras

/// The Engine.IO end of a WebSocket connection: turns complete WebSocket messages into Engine.IO packets
/// for its session, and the session's packets into messages.
final class EngineWebSocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketMessage
    typealias OutboundOut = WebSocketMessage

    /// Set once the session exists (at once for a WebSocket handshake, after lookup for an upgrade).
    var session: EngineSocket?
    private var context: ChannelHandlerContext?
    private var closed = false
    /// Packets written before the handler joined the pipeline (the open packet of a WebSocket handshake).
    private var waiting: [EngineFrame] = []
    private var closeWhenAdded = false
    private var upgraded = false
    /// The message handler of the same pipeline, right before this one: frames are written and flushed
    /// through it directly (held strongly: it never refers back to this handler, and a weak reference
    /// would cost a side table per connection and a check on every write).
    private var messageHandler: WebSocketMessageHandler?

    init() {}

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// The HTTP handlers are gone: writes may now reach the WebSocket encoder.
    func upgradeCompleted() {
        self.upgraded = true
        if let context = self.context,
            let messageHandler = try? context.pipeline.syncOperations.handler(type: WebSocketMessageHandler.self)
        {
            self.messageHandler = messageHandler
        }
        if !self.waiting.isEmpty || self.closeWhenAdded {
            let frames = self.waiting
            self.waiting = []
            self.write(frames, close: self.closeWhenAdded)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.messageHandler = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let session = self.session else { return }
        let id = ObjectIdentifier(self)
        let result: Result<EnginePacket, EngineDecodingError>
        switch self.unwrapInboundIn(data) {
        case .text(let text):
            result = Result { () throws(EngineDecodingError) in try EnginePacketCodec.decodeText(text) }
        case .binary(let bytes):
            result = .success(EnginePacketCodec.decodeBinary(bytes))
        }
        if session.eventLoop === context.eventLoop {
            Self.deliver(result, id: id, to: session)
        } else {
            session.eventLoop.execute { Self.deliver(result, id: id, to: session) }
        }
    }

    private static func deliver(_ result: Result<EnginePacket, EngineDecodingError>, id: ObjectIdentifier, to session: EngineSocket) {
        switch result {
        case .success(let packet): session.webSocket(id, received: packet)
        case .failure(let error): session.webSocket(id, failedWith: error)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, let session = self.session {
            let id = ObjectIdentifier(self)
            if session.eventLoop === context.eventLoop {
                session.webSocketDrained(id)
            } else {
                session.eventLoop.execute { session.webSocketDrained(id) }
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Shutting down: the session sends its close packet (whichever server quiesces, ours or the framework
        // this connection is mounted on); a WebSocket without one just closes.
        if event is ChannelShouldQuiesceEvent {
            if let session = self.session { session.close(reason: .serverShuttingDown) } else { self.write([], close: true) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.closed = true
        if let session = self.session {
            // the session and this handler refer to each other: the link ends with the connection
            self.session = nil
            let id = ObjectIdentifier(self)
            if session.eventLoop === context.eventLoop {
                session.webSocketClosed(id)
            } else {
                session.eventLoop.execute { session.webSocketClosed(id) }
            }
        }
        self.waiting.removeAll()
        context.fireChannelInactive()
    }

    /// Writes frames as WebSocket messages and flushes once.
    func write(_ frames: [EngineFrame], close: Bool) {
        guard !self.closed else { return }
        guard let context = self.context, self.upgraded else {
            self.waiting.append(contentsOf: frames)
            self.closeWhenAdded = self.closeWhenAdded || close
            return
        }
        for frame in frames { self.write(frame, context: context) }
        self.flush(context: context)
        if close {
            self.closed = true
            context.close(promise: nil)
        }
    }

    /// Writes one frame without flushing (the session flushes at the end of the event-loop tick). False
    /// when the WebSocket cannot take it yet (the upgrade is not complete): the caller keeps it queued.
    func writeUnflushed(_ frame: EngineFrame) -> Bool {
        guard !self.closed else { return true }  // dropped, as `write(_:close:)` does
        guard let context = self.context, self.upgraded else { return false }
        self.write(frame, context: context)
        return true
    }

    /// Flushes what `writeUnflushed(_:)` wrote.
    func flush() {
        guard !self.closed, let context = self.context, self.upgraded else { return }
        self.flush(context: context)
    }

    private func write(_ frame: EngineFrame, context: ChannelHandlerContext) {
        guard let messageHandler = self.messageHandler else {
            context.write(self.wrapOutboundOut(frame.isBinary ? .binary(frame.bytes) : .text(frame.bytes)), promise: nil)
            return
        }
        // A frame built once for many recipients goes out as is, unless it should be compressed;
        // `compress(false)` frames go out uncompressed even when permessage-deflate is on.
        let compress = frame.compress && frame.bytes.readableBytes >= messageHandler.compressionThreshold
        if !compress, let wire = frame.webSocketFrame, messageHandler.writeFramed(wire) { return }
        messageHandler.write(frame.isBinary ? .binary(frame.bytes) : .text(frame.bytes), compress: compress)
    }

    private func flush(context: ChannelHandlerContext) {
        // Flushed from the message handler: none of the WebSocket handlers holds writes back.
        if self.messageHandler?.flush() != true { context.flush() }
    }
}
