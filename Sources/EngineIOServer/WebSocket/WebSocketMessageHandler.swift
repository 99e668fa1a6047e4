import Logging
import NIOCore
import NIOWebSocket

/// The semantics of RFC 6455 (and RFC 7692 permessage-deflate) on top of NIO's frame codec: turns client
/// frames into complete ``WebSocketMessage``s and messages into frames.
///
/// Inbound it requires masked frames, rejects reserved bits, opcodes and bad fragmentation, reassembles
/// fragments (control frames may interleave), bounds messages by ``WebSocketConfiguration/maxMessageSize``,
/// checks text is UTF-8 (failing fast on a partial message), inflates compressed messages, answers pings,
/// ignores pongs and runs the close handshake. Every violation is answered with the proper close code
/// (1002 protocol error, 1007 invalid data, 1009 too big), after which the connection closes. It sends no
/// pings of its own: Engine.IO runs its own heartbeat.
///
/// Outbound, the next handler writes ``WebSocketMessage``s with `context.write` and flushes with
/// `context.flush` (nothing is flushed per write, so bursts leave in one vector write). When permessage-deflate
/// is in use, messages of at least ``PerMessageDeflateConfiguration/minimumCompressionSize`` bytes are compressed.
/// `context.close()` from a later handler sends a close frame 1000, waits for the peer's close frame up to
/// ``WebSocketConfiguration/closeTimeout`` and then closes TCP; its promise completes then. Later handlers see
/// the end as `channelInactive`.
///
/// The handler is confined to its channel's event loop.
public final class WebSocketMessageHandler: ChannelDuplexHandler {
    /// Frames from `WebSocketFrameDecoder`.
    public typealias InboundIn = WebSocketFrame
    /// Complete messages for the application.
    public typealias InboundOut = WebSocketMessage
    /// Messages from the application.
    public typealias OutboundIn = WebSocketMessage
    /// Frames for `WebSocketFrameEncoder`.
    public typealias OutboundOut = WebSocketFrame

    private enum State {
        /// Messages flow both ways.
        case open
        /// We sent a close frame and wait for the peer's (or the timeout); inbound frames are discarded.
        case closeSent
        /// The peer sent a close frame; we answered and close TCP once that is written.
        case closeReceived
        /// TCP is closing or closed.
        case closed
    }

    /// A data message being reassembled.
    private struct PartialMessage {
        var isText: Bool
        var isCompressed: Bool
        var buffer: ByteBuffer
        var validator = UTF8Validator()
    }

    private static let defaultLogger = Logger(label: "engineio.websocket")

    private let configuration: WebSocketConfiguration
    private let permessageDeflate: PerMessageDeflateParameters?
    private let logger: Logger
    private var state = State.open
    private var partial: PartialMessage?
    private var compressor: PerMessageDeflateCompressor?
    private var decompressor: PerMessageDeflateDecompressor?
    private var closeTimer: Scheduled<Void>?
    private var closePromise: EventLoopPromise<Void>?

    /// Creates the handler of one connection.
    /// - Parameters:
    ///   - configuration: limits and deflate options (the same value given to the handshake).
    ///   - permessageDeflate: what the handshake negotiated (`Accepted.permessageDeflate`), nil for none.
    ///   - logger: where protocol failures are logged at debug level.
    public init(
        configuration: WebSocketConfiguration,
        permessageDeflate: PerMessageDeflateParameters?,
        logger: Logger? = nil
    ) {
        self.configuration = configuration
        self.permessageDeflate = configuration.permessageDeflate == nil ? nil : permessageDeflate
        self.logger = logger ?? Self.defaultLogger
    }

    // MARK: Inbound

    /// Processes one frame from the peer.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch self.state {
        case .open:
            break
        case .closeSent:
            if frame.opcode == .connectionClose {
                self.closeTransport(context: context)
            }
            return
        case .closeReceived, .closed:
            return
        }
        guard frame.maskKey != nil else {
            return self.fail(context: context, .protocolError, "unmasked client frame")
        }
        guard !frame.rsv2, !frame.rsv3 else {
            return self.fail(context: context, .protocolError, "reserved bit set")
        }
        switch frame.opcode {
        case .text, .binary:
            guard self.partial == nil else {
                return self.fail(context: context, .protocolError, "new data frame inside a fragmented message")
            }
            guard !frame.rsv1 || self.permessageDeflate != nil else {
                return self.fail(context: context, .protocolError, "RSV1 without permessage-deflate")
            }
            self.receiveFirstFrame(context: context, frame: frame)
        case .continuation:
            guard self.partial != nil else {
                return self.fail(context: context, .protocolError, "continuation without a message")
            }
            guard !frame.rsv1 else {
                return self.fail(context: context, .protocolError, "RSV1 on a continuation frame")
            }
            self.receiveContinuation(context: context, frame: frame)
        case .ping:
            guard !frame.rsv1 else { return self.fail(context: context, .protocolError, "RSV1 on a ping") }
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(Self.wrapOutboundOut(pong), promise: nil)
        case .pong:
            guard !frame.rsv1 else { return self.fail(context: context, .protocolError, "RSV1 on a pong") }
        case .connectionClose:
            guard !frame.rsv1 else { return self.fail(context: context, .protocolError, "RSV1 on a close") }
            self.receiveClose(context: context, frame: frame)
        default:
            self.fail(context: context, .protocolError, "reserved opcode \(frame.opcode)")
        }
    }

    private func receiveFirstFrame(context: ChannelHandlerContext, frame: WebSocketFrame) {
        let isText = frame.opcode == .text
        let payload = frame.unmaskedData
        if frame.fin && !frame.rsv1 {
            // The common case, a whole uncompressed message in one frame: no reassembly buffer.
            guard payload.readableBytes <= self.configuration.maxMessageSize else {
                return self.fail(context: context, .messageTooBig, "message too big")
            }
            if isText {
                var validator = UTF8Validator()
                guard validator.feed(payload), validator.isComplete else {
                    return self.fail(context: context, .invalidPayloadData, "invalid UTF-8")
                }
            }
            context.fireChannelRead(Self.wrapInboundOut(isText ? .text(payload) : .binary(payload)))
            return
        }
        let buffer = frame.rsv1 ? context.channel.allocator.buffer(capacity: 0) : payload
        self.partial = PartialMessage(isText: isText, isCompressed: frame.rsv1, buffer: buffer)
        if frame.rsv1 {
            self.append(context: context, payload: payload, fin: frame.fin)
        } else {
            // The payload is already the buffer; only check it.
            guard payload.readableBytes <= self.configuration.maxMessageSize else {
                return self.fail(context: context, .messageTooBig, "message too big")
            }
            if isText, !self.partial!.validator.feed(payload) {
                return self.fail(context: context, .invalidPayloadData, "invalid UTF-8")
            }
        }
    }

    private func receiveContinuation(context: ChannelHandlerContext, frame: WebSocketFrame) {
        self.append(context: context, payload: frame.unmaskedData, fin: frame.fin)
    }

    /// Adds a frame's payload to the partial message and delivers it when `fin`.
    private func append(context: ChannelHandlerContext, payload: ByteBuffer, fin: Bool) {
        guard var message = self.partial.take() else { return }
        let limit = self.configuration.maxMessageSize
        let start = message.buffer.writerIndex
        do throws(PerMessageDeflateError) {
            if message.isCompressed {
                let decompressor = self.makeDecompressor()
                try decompressor.inflate(payload, into: &message.buffer, limit: limit)
                if fin {
                    try decompressor.finishMessage(into: &message.buffer, limit: limit)
                }
            } else {
                guard message.buffer.readableBytes + payload.readableBytes <= limit else {
                    throw PerMessageDeflateError.messageTooLarge
                }
                var payload = payload
                message.buffer.writeBuffer(&payload)
            }
        } catch {
            self.decompressor?.reset()
            switch error {
            case .messageTooLarge: return self.fail(context: context, .messageTooBig, "message too big")
            case .corruptData: return self.fail(context: context, .invalidPayloadData, "invalid deflate data")
            case .internalError: return self.fail(context: context, .internalError, "zlib failure")
            }
        }
        if message.isText {
            let added = message.buffer.getSlice(at: start, length: message.buffer.writerIndex - start)!
            guard message.validator.feed(added), !fin || message.validator.isComplete else {
                return self.fail(context: context, .invalidPayloadData, "invalid UTF-8")
            }
        }
        if fin {
            context.fireChannelRead(Self.wrapInboundOut(message.isText ? .text(message.buffer) : .binary(message.buffer)))
        } else {
            self.partial = message
        }
    }

    private func receiveClose(context: ChannelHandlerContext, frame: WebSocketFrame) {
        var payload = frame.unmaskedData
        var code: WebSocketCloseCode?
        switch payload.readableBytes {
        case 0:
            code = nil
        case 1:
            return self.fail(context: context, .protocolError, "close payload of one byte")
        default:
            let received = WebSocketCloseCode(payload.readInteger(as: UInt16.self)!)
            guard received.isValidOnTheWire else {
                return self.fail(context: context, .protocolError, "invalid close code \(received)")
            }
            guard UTF8Validator.isValid(payload.readableBytesView) else {
                return self.fail(context: context, .invalidPayloadData, "close reason is not UTF-8")
            }
            code = received
        }
        self.logger.trace("websocket close received", metadata: ["ws.code": "\(code.map(\.description) ?? "none")"])
        self.partial = nil
        self.state = .closeReceived
        var echo = context.channel.allocator.buffer(capacity: 2)
        if let code {
            echo.writeInteger(code.rawValue)
        }
        let reply = WebSocketFrame(fin: true, opcode: .connectionClose, data: echo)
        // The server closes TCP first (RFC 6455 7.1.1) once the answer is written.
        context.writeAndFlush(Self.wrapOutboundOut(reply)).assumeIsolated().whenComplete { _ in
            self.closeTransport(context: context)
        }
    }

    /// Handles errors of the frame decoder (oversize frames, bad control frames) with a close code.
    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? NIOWebSocketError {
            let code: WebSocketCloseCode
            switch error {
            case .invalidFrameLength: code = .messageTooBig
            case .fragmentedControlFrame, .multiByteControlFrameLength: code = .protocolError
            }
            // The decoder is now unusable, so the peer's close frame cannot be read: close right after ours.
            self.fail(context: context, code, "frame decoder: \(error)", decoderFailed: true)
            return
        }
        if self.state != .open, error is ByteToMessageDecoderError {
            // Bytes arriving at the failed decoder while we close.
            return
        }
        context.fireErrorCaught(error)
    }

    /// Cleans up when the connection ends.
    public func channelInactive(context: ChannelHandlerContext) {
        self.state = .closed
        self.partial = nil
        self.closeTimer?.cancel()
        self.closeTimer = nil
        if let promise = self.closePromise {
            self.closePromise = nil
            promise.succeed()
        }
        context.fireChannelInactive()
    }

    /// Cancels the close timer.
    public func handlerRemoved(context: ChannelHandlerContext) {
        self.closeTimer?.cancel()
        self.closeTimer = nil
    }

    // MARK: Outbound

    /// Whether data frames may still be sent (no close frame sent or received yet).
    var isOpenForWriting: Bool { self.state == .open }

    /// Messages at least this long are compressed when sent through this handler (`Int.max` without
    /// permessage-deflate); shorter ones may be written pre-framed, uncompressed.
    var compressionThreshold: Int {
        guard let deflate = self.configuration.permessageDeflate, self.permessageDeflate != nil else { return Int.max }
        return deflate.minimumCompressionSize
    }

    /// Frames (and maybe compresses) a message; does not flush.
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard self.state == .open else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        let message = Self.unwrapOutboundIn(data)
        let opcode: WebSocketOpcode
        let payload: ByteBuffer
        switch message {
        case .text(let buffer):
            opcode = .text
            payload = buffer
        case .binary(let buffer):
            opcode = .binary
            payload = buffer
        }
        if let deflate = self.configuration.permessageDeflate, let parameters = self.permessageDeflate,
            payload.readableBytes >= deflate.minimumCompressionSize
        {
            let compressor: PerMessageDeflateCompressor
            if let existing = self.compressor {
                compressor = existing
            } else {
                compressor = PerMessageDeflateCompressor(
                    windowBits: parameters.serverMaxWindowBits,
                    compressionLevel: deflate.compressionLevel,
                    memoryLevel: deflate.memoryLevel,
                    noContextTakeover: parameters.serverNoContextTakeover
                )
                self.compressor = compressor
            }
            do {
                let compressed = try compressor.compress(payload, allocator: context.channel.allocator)
                let frame = WebSocketFrame(fin: true, rsv1: true, opcode: opcode, data: compressed)
                context.write(Self.wrapOutboundOut(frame), promise: promise)
                return
            } catch {
                // Sending uncompressed is always allowed; the compressor restarted with a fresh stream.
                self.logger.debug("websocket compression failed, sending uncompressed", metadata: ["error": "\(error)"])
            }
        }
        context.write(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, data: payload)), promise: promise)
    }

    /// Starts the close handshake (close frame 1000) for a full close; other modes pass through.
    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all else {
            context.close(mode: mode, promise: promise)
            return
        }
        switch self.state {
        case .open:
            self.addClosePromise(promise)
            self.partial = nil
            self.sendClose(context: context, code: .normalClosure)
        case .closeSent, .closeReceived:
            self.addClosePromise(promise)
        case .closed:
            context.close(mode: mode, promise: promise)
        }
    }

    /// The peer's end of input, on a channel that allows half-closure (a framework's): nothing more can
    /// come, not even a close frame, so the connection closes now, as one without half-closure does at
    /// end of input.
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
            self.closeTransport(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Closing

    private func addClosePromise(_ promise: EventLoopPromise<Void>?) {
        guard let promise else { return }
        if let existing = self.closePromise {
            existing.futureResult.cascade(to: promise)
        } else {
            self.closePromise = promise
        }
    }

    /// Fails the connection: sends `code` and closes.
    private func fail(
        context: ChannelHandlerContext,
        _ code: WebSocketCloseCode,
        _ reason: String,
        decoderFailed: Bool = false
    ) {
        guard self.state == .open else {
            if decoderFailed { self.closeTransport(context: context) }
            return
        }
        self.logger.debug("websocket protocol failure", metadata: ["ws.code": "\(code)", "ws.reason": "\(reason)"])
        self.partial = nil
        self.decompressor?.reset()
        self.sendClose(context: context, code: code, decoderFailed: decoderFailed)
    }

    /// Sends a close frame, then waits for the peer's close frame (or the timeout) before closing TCP.
    private func sendClose(context: ChannelHandlerContext, code: WebSocketCloseCode, decoderFailed: Bool = false) {
        self.state = .closeSent
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.writeInteger(code.rawValue)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)
        let written = context.writeAndFlush(Self.wrapOutboundOut(frame))
        self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.configuration.closeTimeout) {
            self.closeTransport(context: context)
        }
        if decoderFailed {
            // Half-close so the peer gets our close frame and FIN without a reset, then wait for its EOF.
            written.assumeIsolated().whenComplete { _ in
                guard self.state == .closeSent else { return }
                context.close(mode: .output).assumeIsolated().whenFailure { _ in
                    self.closeTransport(context: context)
                }
            }
        }
    }

    private func closeTransport(context: ChannelHandlerContext) {
        guard self.state != .closed else { return }
        self.state = .closed
        self.closeTimer?.cancel()
        self.closeTimer = nil
        let promise = self.closePromise
        self.closePromise = nil
        context.close(mode: .all, promise: promise)
    }

    private func makeDecompressor() -> PerMessageDeflateDecompressor {
        if let decompressor = self.decompressor { return decompressor }
        let decompressor = PerMessageDeflateDecompressor(
            noContextTakeover: self.permessageDeflate?.clientNoContextTakeover ?? false,
            allocator: ByteBufferAllocator()
        )
        self.decompressor = decompressor
        return decompressor
    }
}

@available(*, unavailable)
extension WebSocketMessageHandler: Sendable {}
