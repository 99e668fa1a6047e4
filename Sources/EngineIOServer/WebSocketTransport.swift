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

    /// Writes one frame without flushing, when called on the channel's event loop and the WebSocket can
    /// take it now; false otherwise (the caller queues it).
    func writeUnflushed(_ frame: EngineFrame, from loop: EventLoop) -> Bool {
        guard loop === self.channel.eventLoop else { return false }
        return self.handler.value.writeUnflushed(frame)
    }

    /// Flushes the frames of `writeUnflushed(_:from:)`; on the channel's event loop.
    func flush() {
        self.handler.value.flush()
    }

    /// Closes the WebSocket (with a close frame).
    func close(from loop: EventLoop) {
        self.write([], close: true, from: loop)
    }
}
