import Logging
import NIOCore
import NIOWebSocket

/// The semantics of RFC 6455 (and RFC 7692 permessage-deflate): turns the bytes a client sends into complete
/// ``WebSocketMessage``s and messages into frames. It sits right after the socket (or TLS) in the pipeline:
/// it parses and writes frames itself, so a WebSocket connection needs no frame decoder or encoder handlers
/// of its own.
///
/// Inbound it bounds frames by ``WebSocketConfiguration/maxFrameSize``, requires masked frames, rejects reserved bits, opcodes and bad fragmentation, reassembles
/// fragments (control frames may interleave), bounds messages by ``WebSocketConfiguration/maxMessageSize``,
/// checks text is UTF-8 (failing fast on a partial message), inflates compressed messages, answers pings,
/// ignores pongs and runs the close handshake. Every violation is answered with the proper close code
/// (1002 protocol error, 1007 invalid data, 1009 too big), after which the connection closes. It sends no
/// pings of its own: Engine.IO runs its own heartbeat.
///
/// Outbound, the next handler writes ``WebSocketMessage``s with `context.write` and flushes with
/// `context.flush` (nothing is flushed per write, so bursts leave in one vector write). The handler frames
/// them itself (no separate frame encoder in the pipeline): the header goes into the free bytes in front of
/// the payload when there are some (no allocation), else into a buffer of its own. When permessage-deflate
/// is in use, messages of at least ``PerMessageDeflateConfiguration/minimumCompressionSize`` bytes are compressed.
/// `context.close()` from a later handler sends a close frame 1000, waits for the peer's close frame up to
/// ``WebSocketConfiguration/closeTimeout`` and then closes TCP; its promise completes then. Later handlers see
/// the end as `channelInactive`.
///
/// The handler is confined to its channel's event loop.
public final class WebSocketMessageHandler: ChannelDuplexHandler {
    /// Bytes from the peer.
    public typealias InboundIn = ByteBuffer
    /// Complete messages for the application.
    public typealias InboundOut = WebSocketMessage
    /// Messages from the application.
    public typealias OutboundIn = WebSocketMessage
    /// Encoded frames, for the socket.
    public typealias OutboundOut = ByteBuffer

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

    /// A logger given at creation (the shared default otherwise: no copy kept per connection).
    private final class LoggerBox {
        let logger: Logger
        init(_ logger: Logger) { self.logger = logger }
    }

    private let maxMessageSize: Int
    private let closeTimeout: TimeAmount
    /// The negotiated permessage-deflate, nil without it.
    private let deflate: PerMessageDeflateSession?
    private let loggerBox: LoggerBox?
    private var logger: Logger { self.loggerBox?.logger ?? Self.defaultLogger }
    private var state = State.open
    /// Splits the peer's bytes into frames; nil once it failed (framing is lost: nothing more is read).
    private var parser: WebSocketFrameParser?
    private var partial: PartialMessage?
    private var closeTimer: Scheduled<Void>?
    private var closePromise: EventLoopPromise<Void>?
    /// Set while the handler is in a pipeline (for the next handler's direct writes).
    private var context: ChannelHandlerContext?

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
        self.maxMessageSize = configuration.maxMessageSize
        self.closeTimeout = configuration.closeTimeout
        if let deflate = configuration.permessageDeflate, let permessageDeflate {
            self.deflate = PerMessageDeflateSession(configuration: deflate, parameters: permessageDeflate)
        } else {
            self.deflate = nil
        }
        self.loggerBox = logger.map(LoggerBox.init)
        self.parser = WebSocketFrameParser(maxFrameSize: configuration.maxFrameSize)
    }

    // MARK: Inbound

    /// Processes the frames in bytes from the peer.
    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard self.parser != nil else { return }
        self.parser!.append(Self.unwrapInboundIn(data))
        do throws(NIOWebSocketError) {
            while let frame = try self.parser?.next() {
                self.receive(context: context, frame: frame)
            }
        } catch {
            self.parser = nil
            let code: WebSocketCloseCode
            switch error {
            case .invalidFrameLength: code = .messageTooBig
            case .fragmentedControlFrame, .multiByteControlFrameLength: code = .protocolError
            }
            // Framing is lost, so the peer's close frame cannot be read: close right after ours.
            self.fail(context: context, code, "frame: \(error)", decoderFailed: true)
        }
    }

    /// Processes one frame from the peer.
    private func receive(context: ChannelHandlerContext, frame: WebSocketFrameParser.Frame) {
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
            guard !frame.rsv1 || self.deflate != nil else {
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
            Self.writeFrame(context: context, opcode: .pong, payload: frame.unmaskedData, promise: nil)
            context.flush()
        case .pong:
            guard !frame.rsv1 else { return self.fail(context: context, .protocolError, "RSV1 on a pong") }
        case .connectionClose:
            guard !frame.rsv1 else { return self.fail(context: context, .protocolError, "RSV1 on a close") }
            self.receiveClose(context: context, frame: frame)
        default:
            self.fail(context: context, .protocolError, "reserved opcode \(frame.opcode)")
        }
    }

    private func receiveFirstFrame(context: ChannelHandlerContext, frame: WebSocketFrameParser.Frame) {
        let isText = frame.opcode == .text
        let payload = frame.unmaskedData
        if frame.fin && !frame.rsv1 {
            // The common case, a whole uncompressed message in one frame: no reassembly buffer.
            guard payload.readableBytes <= self.maxMessageSize else {
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
            guard payload.readableBytes <= self.maxMessageSize else {
                return self.fail(context: context, .messageTooBig, "message too big")
            }
            if isText, !self.partial!.validator.feed(payload) {
                return self.fail(context: context, .invalidPayloadData, "invalid UTF-8")
            }
        }
    }

    private func receiveContinuation(context: ChannelHandlerContext, frame: WebSocketFrameParser.Frame) {
        self.append(context: context, payload: frame.unmaskedData, fin: frame.fin)
    }

    /// Adds a frame's payload to the partial message and delivers it when `fin`.
    private func append(context: ChannelHandlerContext, payload: ByteBuffer, fin: Bool) {
        guard var message = self.partial.take() else { return }
        let limit = self.maxMessageSize
        let start = message.buffer.writerIndex
        do throws(PerMessageDeflateError) {
            if message.isCompressed {
                guard let decompressor = self.deflate?.decompressor else { throw PerMessageDeflateError.corruptData }
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
            self.deflate?.existingDecompressor?.reset()
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

    private func receiveClose(context: ChannelHandlerContext, frame: WebSocketFrameParser.Frame) {
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
        // The server closes TCP first (RFC 6455 7.1.1) once the answer is written.
        let written = context.eventLoop.makePromise(of: Void.self)
        Self.writeFrame(context: context, opcode: .connectionClose, payload: echo, promise: written)
        context.flush()
        written.futureResult.assumeIsolated().whenComplete { _ in
            self.closeTransport(context: context)
        }
    }

    /// Cleans up when the connection ends.
    public func channelInactive(context: ChannelHandlerContext) {
        self.state = .closed
        self.partial = nil
        self.parser = nil
        self.closeTimer?.cancel()
        self.closeTimer = nil
        if let promise = self.closePromise {
            self.closePromise = nil
            promise.succeed()
        }
        context.fireChannelInactive()
    }

    /// Keeps the context for direct writes from the next handler.
    public func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    /// Cancels the close timer.
    public func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.closeTimer?.cancel()
        self.closeTimer = nil
    }

    // MARK: Outbound

    /// Whether data frames may still be sent (no close frame sent or received yet).
    var isOpenForWriting: Bool { self.state == .open }

    /// Messages at least this long are compressed when sent through this handler (`Int.max` without
    /// permessage-deflate); shorter ones may be written pre-framed, uncompressed.
    var compressionThreshold: Int {
        self.deflate?.configuration.minimumCompressionSize ?? Int.max
    }

    /// Frames (and maybe compresses) a message; does not flush.
    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.write(Self.unwrapOutboundIn(data), compress: true, context: context, promise: promise)
    }

    /// Frames `message` (compressed when `compress` is set and permessage-deflate would compress it) and
    /// writes it from this handler's place in the pipeline; does not flush. For the handler right after
    /// this one, which may call it instead of `context.write`.
    func write(_ message: WebSocketMessage, compress: Bool) {
        guard let context = self.context else { return }
        self.write(message, compress: compress, context: context, promise: nil)
    }

    /// Writes bytes that already are one complete server frame (not flushed); false when the handler is
    /// not in a pipeline or no data frame may be sent any more.
    func writeFramed(_ frame: ByteBuffer) -> Bool {
        guard let context = self.context, self.state == .open else { return false }
        context.write(Self.wrapOutboundOut(frame), promise: nil)
        return true
    }

    /// Flushes the connection; false when the handler is not in a pipeline.
    func flush() -> Bool {
        guard let context = self.context else { return false }
        context.flush()
        return true
    }

    private func write(
        _ message: WebSocketMessage,
        compress: Bool,
        context: ChannelHandlerContext,
        promise: EventLoopPromise<Void>?
    ) {
        guard self.state == .open else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
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
        if compress, let deflate = self.deflate, payload.readableBytes >= deflate.configuration.minimumCompressionSize {
            do {
                let compressed = try deflate.compressor.compress(payload, allocator: context.channel.allocator)
                Self.writeFrame(context: context, opcode: opcode, compressed: true, payload: compressed, promise: promise)
                return
            } catch {
                // Sending uncompressed is always allowed; the compressor restarted with a fresh stream.
                self.logger.debug("websocket compression failed, sending uncompressed", metadata: ["error": "\(error)"])
            }
        }
        Self.writeFrame(context: context, opcode: opcode, payload: payload, promise: promise)
    }

    /// Writes one unfragmented, unmasked server frame carrying `payload`. The header goes in front of the
    /// payload in its own storage when there is room there and nothing else refers to it; otherwise it is
    /// written as a small buffer of its own, before the payload.
    private static func writeFrame(
        context: ChannelHandlerContext,
        opcode: WebSocketOpcode,
        compressed: Bool = false,
        payload: ByteBuffer,
        promise: EventLoopPromise<Void>?
    ) {
        let length = payload.readableBytes
        let headerLength = length < 126 ? 2 : (length <= 0xFFFF ? 4 : 10)
        let firstByte = 0x80 | (compressed ? 0x40 : 0) | UInt8(webSocketOpcode: opcode)
        var payload = payload
        let prepended = payload.modifyIfUniquelyOwned { buffer -> Bool in
            guard buffer.readerIndex >= headerLength else { return false }
            buffer.moveReaderIndex(to: buffer.readerIndex - headerLength)
            Self.setHeader(firstByte: firstByte, length: length, in: &buffer, at: buffer.readerIndex)
            return true
        }
        if prepended != true {
            var header = context.channel.allocator.buffer(capacity: headerLength)
            header.moveWriterIndex(forwardBy: Self.setHeader(firstByte: firstByte, length: length, in: &header, at: 0))
            context.write(Self.wrapOutboundOut(header), promise: nil)
        }
        context.write(Self.wrapOutboundOut(payload), promise: promise)
    }

    /// Sets the header of an unmasked frame of `length` payload bytes at `index`; returns its length.
    @discardableResult
    private static func setHeader(firstByte: UInt8, length: Int, in buffer: inout ByteBuffer, at index: Int) -> Int {
        buffer.setInteger(firstByte, at: index)
        if length < 126 {
            buffer.setInteger(UInt8(length), at: index + 1)
            return 2
        } else if length <= 0xFFFF {
            buffer.setInteger(UInt8(126), at: index + 1)
            buffer.setInteger(UInt16(length), at: index + 2)
            return 4
        } else {
            buffer.setInteger(UInt8(127), at: index + 1)
            buffer.setInteger(UInt64(length), at: index + 2)
            return 10
        }
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
        self.deflate?.existingDecompressor?.reset()
        self.sendClose(context: context, code: code, decoderFailed: decoderFailed)
    }

    /// Sends a close frame, then waits for the peer's close frame (or the timeout) before closing TCP.
    private func sendClose(context: ChannelHandlerContext, code: WebSocketCloseCode, decoderFailed: Bool = false) {
        self.state = .closeSent
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.writeInteger(code.rawValue)
        let promise = context.eventLoop.makePromise(of: Void.self)
        Self.writeFrame(context: context, opcode: .connectionClose, payload: payload, promise: promise)
        context.flush()
        let written = promise.futureResult
        self.closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: self.closeTimeout) {
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
}

@available(*, unavailable)
extension WebSocketMessageHandler: Sendable {}
