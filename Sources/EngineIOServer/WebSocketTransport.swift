import EngineIOCore
import NIOCore

/// A session's handle on one WebSocket connection, usable from the session's event loop even when the
/// connection lives on another loop.
struct WebSocketTransport: Sendable {
    let channel: Channel
    let handler: NIOLoopBound<EngineWebSocketHandler>
    let id: ObjectIdentifier

    init(channel: Channel, handler: EngineWebSocketHandler) {
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        self.id = ObjectIdentifier(handler)
    }

    /// Writes `frames` and flushes once; closes the WebSocket afterwards when `close` is set.
    func write(_ frames: [EngineFrame], close: Bool, from loop: EventLoop) {
        if loop === self.channel.eventLoop {
            self.handler.value.write(frames, close: close)
        } else {
            let handler = self.handler
            self.channel.eventLoop.execute { handler.value.write(frames, close: close) }
        }
    }

    /// Closes the WebSocket (with a close frame).
    func close(from loop: EventLoop) {
        self.write([], close: true, from: loop)
    }
}
