import NIOCore

/// Sits first in a WebSocket connection's pipeline so that pre-framed bytes (a broadcast's frame, built
/// once and shared) can be written straight to the socket, past the per-message WebSocket handlers.
/// Inbound data passes through untouched.
final class RawFrameWriter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    /// Flushes the connection from the front of the pipeline; false when the handler is not in a pipeline.
    func flush() -> Bool {
        guard let context = self.context else { return false }
        context.flush()
        return true
    }

    /// Writes complete frame bytes (not flushed); false when the handler is not in a pipeline.
    func write(_ frame: ByteBuffer) -> Bool {
        guard let context = self.context else { return false }
        context.write(self.wrapOutboundOut(frame), promise: nil)
        return true
    }
}
