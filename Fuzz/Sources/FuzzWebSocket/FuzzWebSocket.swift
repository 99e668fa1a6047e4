// libFuzzer target: the WebSocket path of the Engine.IO server, from raw bytes to messages:
// `WebSocketMessageHandler` with its own frame parser (framing, RFC 6455 checks, reassembly, limits, UTF-8,
// permessage-deflate inflation, close handshake) in an `EmbeddedChannel`; every message it delivers is written back,
// through its compressor when deflate is negotiated. Also `UTF8Validator` and `PerMessageDeflateDecompressor` alone.
//
// Input: one flag byte, then the rest.
//   bit 0  permessage-deflate negotiated          bit 1  client_no_context_takeover
//   bit 2  structured mode (below) instead of raw frame bytes
//   bit 3  small limits (64-byte messages, 4 KiB frames) instead of 1 MiB
//   bits 4-7  drip-feed chunk size (0: all at once, n: 1 << (n - 1) bytes)
// Structured mode reads messages `<h> <len> <len bytes>` and frames them properly (masked, fragmented into
// ((h >> 4) & 3) + 1 frames, compressed by a real client-side compressor when h & 4 and deflate is on); opcode
// h & 3: 0 text, 1 binary, 2 ping, 3 pong. That reaches the deflate and reassembly paths far more often than raw
// bytes do, and lets the target predict exactly which messages must come out.
//
// Invariants:
// - Every text message delivered is valid UTF-8 by Swift's own `String(validating:)`; no message exceeds the limit.
// - In structured mode the delivered messages are exactly the expected ones: all of them, in order, up to the first
//   message that must be refused (invalid UTF-8, too big), and none after it.
// - The handler's outbound frames are unmasked with valid close codes; the echoed messages inflate back to themselves.
// - `UTF8Validator` agrees with `String(validating:)`, fed whole, in two pieces, as bytes or as a sequence.
// - The decompressor accepts no message past its limit, and stops within twice the limit when it refuses one.
@testable import EngineIOServer
import FuzzDriver
import NIOCore
import NIOEmbedded
import NIOWebSocket

@inline(never)
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant violated: \(message())") }
}

/// Collects the messages that reach the application and echoes each one.
final class EchoCollector: ChannelInboundHandler {
    typealias InboundIn = WebSocketMessage
    typealias OutboundOut = WebSocketMessage
    var messages: [WebSocketMessage] = []
    var echoed: [WebSocketMessage] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let message = Self.unwrapInboundIn(data)
        self.messages.append(message)
        let promise = context.eventLoop.makePromise(of: Void.self)
        promise.futureResult.assumeIsolated().whenSuccess { self.echoed.append(message) }
        context.writeAndFlush(Self.wrapOutboundOut(message), promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

struct Flags {
    var deflate: Bool
    var clientNoContextTakeover: Bool
    var structured: Bool
    var smallLimits: Bool
    var chunk: Int

    init(_ byte: UInt8) {
        self.deflate = byte & 1 != 0
        self.clientNoContextTakeover = byte & 2 != 0
        self.structured = byte & 4 != 0
        self.smallLimits = byte & 8 != 0
        let n = Int(byte >> 4)
        self.chunk = n == 0 ? Int.max : 1 << (n - 1)
    }
}

// MARK: Structured input

struct Expected {
    /// Messages that must be delivered, in order.
    var messages: [WebSocketMessage] = []
    /// Whether the input contains a message that must make the handler fail (then nothing after it is delivered).
    var failing = false
}

func appendFrame(
    _ out: inout ByteBuffer, fin: Bool, rsv1: Bool, opcode: UInt8, payload: ArraySlice<UInt8>, key: [UInt8]
) {
    out.writeInteger(UInt8((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode))
    if payload.count < 126 {
        out.writeInteger(UInt8(0x80 | payload.count))
    } else {
        out.writeInteger(UInt8(0x80 | 126))
        out.writeInteger(UInt16(payload.count))
    }
    out.writeBytes(key)
    for (index, byte) in payload.enumerated() { out.writeInteger(byte ^ key[index & 3]) }
}

/// Frames the structured input; returns the wire bytes and the messages the handler must deliver.
func buildStructured(_ bytes: ArraySlice<UInt8>, flags: Flags, maxMessageSize: Int) -> (ByteBuffer, Expected) {
    var wire = ByteBuffer()
    var expected = Expected()
    var index = bytes.startIndex
    let key: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
    let compressor = PerMessageDeflateCompressor(
        windowBits: 15, compressionLevel: 6, memoryLevel: 8, noContextTakeover: flags.clientNoContextTakeover
    )
    while index + 2 <= bytes.endIndex {
        let header = bytes[index]
        var length = Int(bytes[index + 1])
        index += 2
        let kind = header & 3
        if kind >= 2 { length %= 126 }  // control frames carry at most 125 bytes
        let payload = Array(bytes[index..<min(index + length, bytes.endIndex)])
        index += payload.count
        if kind >= 2 {
            appendFrame(&wire, fin: true, rsv1: false, opcode: kind == 2 ? 0x9 : 0xA, payload: payload[...], key: key)
            continue
        }
        let isText = kind == 0
        let compress = flags.deflate && header & 4 != 0
        var body = payload
        if compress {
            guard let compressed = try? compressor.compress(ByteBuffer(bytes: payload), allocator: ByteBufferAllocator())
            else { fatalError("client-side compression failed") }
            body = Array(compressed.readableBytesView)
            // RFC 7692 7.2.3.6: an empty message compresses to a single 0x00 byte, never to nothing.
            require(!body.isEmpty, "the compressor returned no bytes (see Fuzz/Regressions/FuzzWebSocket)")
        }
        let fragments = Int((header >> 4) & 3) + 1
        let size = max(1, (body.count + fragments - 1) / fragments)
        var start = 0
        var first = true
        repeat {
            let end = min(start + size, body.count)
            let fin = end >= body.count
            appendFrame(
                &wire, fin: fin, rsv1: first && compress, opcode: first ? (isText ? 0x1 : 0x2) : 0x0,
                payload: body[start..<end], key: key
            )
            first = false
            start = end
        } while start < body.count
        if !expected.failing {
            if payload.count > maxMessageSize || (isText && String(validating: payload, as: UTF8.self) == nil) {
                expected.failing = true
            } else {
                let buffer = ByteBuffer(bytes: payload)
                expected.messages.append(isText ? .text(buffer) : .binary(buffer))
            }
        }
    }
    return (wire, expected)
}

// MARK: The channel

func runChannel(_ wire: ByteBuffer, flags: Flags, expected: Expected?) {
    let configuration = WebSocketConfiguration(
        maxFrameSize: flags.smallLimits ? 4096 : 1 << 20,
        maxMessageSize: flags.smallLimits ? 64 : 1 << 20,
        permessageDeflate: PerMessageDeflateConfiguration(minimumCompressionSize: 0),
        closeTimeout: .seconds(1)
    )
    let negotiated = flags.deflate
        ? PerMessageDeflateParameters(clientNoContextTakeover: flags.clientNoContextTakeover) : nil
    let channel = EmbeddedChannel()
    let collector = EchoCollector()
    do {
        // The handler parses and writes frames itself (`WebSocketFrameParser`): no NIO frame codec in front.
        try channel.pipeline.syncOperations.addHandlers([
            WebSocketMessageHandler(configuration: configuration, permessageDeflate: negotiated),
            collector,
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    } catch {
        fatalError("pipeline setup failed: \(error)")
    }

    var remaining = wire
    while remaining.readableBytes > 0, channel.isActive {
        let chunk = remaining.readSlice(length: min(flags.chunk, remaining.readableBytes))!
        do {
            try channel.writeInbound(chunk)
        } catch {
            // Errors that reach the end of the pipeline (after the handler has answered them) stop the input.
            break
        }
    }
    channel.embeddedEventLoop.advanceTime(by: .seconds(2))  // fire the close timer, if any
    // An application close: the handler sends close 1000 and waits for the peer's answer or its timeout
    // (`finish()` alone would block on that close forever, as no peer answers here).
    if channel.isActive {
        channel.close(promise: nil)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
    }
    require(!channel.isActive, "the channel is still open after the close timeout")

    // What came out.
    let limit = configuration.maxMessageSize
    for message in collector.messages {
        require(message.data.readableBytes <= limit, "message of \(message.data.readableBytes) bytes over \(limit)")
        if case .text(let text) = message {
            require(String(validating: text.readableBytesView, as: UTF8.self) != nil, "invalid UTF-8 delivered")
        }
    }
    if let expected {
        if expected.failing {
            require(
                collector.messages.count <= expected.messages.count
                    && Array(expected.messages.prefix(collector.messages.count)) == collector.messages,
                "structured: \(collector.messages.count) messages delivered, not a prefix of the \(expected.messages.count) expected"
            )
            require(collector.messages.count == expected.messages.count, "structured: a valid message was lost before the failing one")
        } else {
            require(
                collector.messages == expected.messages,
                "structured: delivered \(collector.messages.count) messages, expected \(expected.messages.count)"
            )
        }
    }
    checkOutbound(channel, flags: flags, echoed: collector.echoed)
    _ = try? channel.finish(acceptAlreadyClosed: true)
}

/// Reads the server's frames back: unmasked, valid close codes, and echoed messages equal to what was received.
func checkOutbound(_ channel: EmbeddedChannel, flags: Flags, echoed: [WebSocketMessage]) {
    var bytes = ByteBuffer()
    while let chunk = try? channel.readOutbound(as: ByteBuffer.self) {
        bytes.writeImmutableBuffer(chunk)
    }
    let reader = EmbeddedChannel(handler: ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 22)))
    do {
        try reader.writeInbound(bytes)
    } catch {
        return require(false, "the server wrote frames NIO cannot decode: \(error)")
    }
    let inflater = PerMessageDeflateDecompressor(noContextTakeover: false)
    var data: [WebSocketMessage] = []
    var raw: [String] = []
    while let frame = try? reader.readInbound(as: WebSocketFrame.self) {
        require(frame.maskKey == nil, "server frame is masked")
        switch frame.opcode {
        case .text, .binary:
            require(frame.fin, "server fragmented a message")
            var payload = frame.data
            raw.append(payload.readableBytesView.map { String($0, radix: 16) }.joined(separator: " "))
            if frame.rsv1 {
                require(flags.deflate, "compressed frame without deflate")
                var inflated = ByteBuffer()
                do {
                    try inflater.inflate(payload, into: &inflated, limit: 1 << 22)
                    try inflater.finishMessage(into: &inflated, limit: 1 << 22)
                } catch {
                    return require(false, "the server's compressed frame does not inflate: \(error); frames \(raw)")
                }
                payload = inflated
            }
            data.append(frame.opcode == .text ? .text(payload) : .binary(payload))
        case .connectionClose:
            if frame.data.readableBytes >= 2 {
                let code = WebSocketCloseCode(frame.data.getInteger(at: frame.data.readerIndex, as: UInt16.self)!)
                require(code.isValidOnTheWire, "server sent close code \(code)")
            }
        default:
            break
        }
    }
    _ = try? reader.finish()
    require(data == echoed, "echo: \(data.count) messages came back, \(echoed.count) were written: \(data) vs \(echoed); frames \(raw)")
}

// MARK: Pieces alone

func checkUTF8(_ bytes: ArraySlice<UInt8>, split: Int) {
    let valid = String(validating: bytes, as: UTF8.self) != nil
    require(UTF8Validator.isValid(bytes) == valid, "UTF8Validator.isValid disagrees with String(validating:)")
    let buffer = ByteBuffer(bytes: bytes)
    let cut = bytes.isEmpty ? 0 : split % (bytes.count + 1)
    var whole = UTF8Validator()
    require((whole.feed(buffer) && whole.isComplete) == valid, "UTF8Validator.feed(ByteBuffer) disagrees")
    var pieces = UTF8Validator()
    let head = buffer.getSlice(at: buffer.readerIndex, length: cut)!
    let tail = buffer.getSlice(at: buffer.readerIndex + cut, length: buffer.readableBytes - cut)!
    require((pieces.feed(head) && pieces.feed(tail) && pieces.isComplete) == valid, "UTF8Validator in two pieces disagrees")
    var sequence = UTF8Validator()
    require(
        (sequence.feed(bytes.prefix(cut)) && sequence.feed(bytes.dropFirst(cut)) && sequence.isComplete) == valid,
        "UTF8Validator.feed(Sequence) disagrees"
    )
}

func checkInflate(_ bytes: ArraySlice<UInt8>, flags: Flags) {
    let limit = flags.smallLimits ? 64 : 1 << 20
    let inflater = PerMessageDeflateDecompressor(noContextTakeover: flags.clientNoContextTakeover)
    var output = ByteBuffer()
    do {
        try inflater.inflate(ByteBuffer(bytes: bytes), into: &output, limit: limit)
        try inflater.finishMessage(into: &output, limit: limit)
    } catch {
        // Refused: memory stays bounded (zlib may fill the capacity reserved for one byte past the limit).
        require(output.readableBytes <= 2 * (limit + 1), "inflated \(output.readableBytes) bytes, limit \(limit)")
        return
    }
    require(output.readableBytes <= limit, "inflated \(output.readableBytes) bytes, limit \(limit)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let flags = Flags(bytes[0])
    let rest = bytes[1...]
    if flags.structured {
        let maxMessageSize = flags.smallLimits ? 64 : 1 << 20
        let (wire, expected) = buildStructured(rest, flags: flags, maxMessageSize: maxMessageSize)
        runChannel(wire, flags: flags, expected: expected)
    } else {
        runChannel(ByteBuffer(bytes: rest), flags: flags, expected: nil)
        checkUTF8(rest, split: Int(bytes[0]))
        if flags.deflate { checkInflate(rest, flags: flags) }
    }
    return 0
}

/// The entry point SwiftPM links as `main`: runs libFuzzer's driver on ``fuzz(_:_:)``.
@_cdecl("FuzzWebSocket_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzz(data.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(bitPattern: 1)!, size)
    }
}
