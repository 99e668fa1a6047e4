import NIOCore

/// A message received on a subscribed channel.
public struct RedisPubSubMessage: Sendable {
    /// The channel it was published on.
    public var channel: String
    /// The pattern that matched, for `PSUBSCRIBE` subscriptions.
    public var pattern: String?
    /// The published bytes.
    public var payload: ByteBuffer

    /// Creates a message.
    public init(channel: String, pattern: String?, payload: ByteBuffer) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }
}

/// A command on its way to the handler, with the promise of its reply and how many replies it yields
/// (`SUBSCRIBE a b` yields two; the promise completes with the first, the others are consumed).
struct RedisRequest: Sendable {
    var command: RedisCommand
    var promise: EventLoopPromise<RESPValue>?
    var replies: Int = 1
}

/// The thin I/O part of a connection: encodes requests, runs the pure parser over the bytes read,
/// completes the promises of pipelined commands in order, and hands pub/sub messages to `onMessage`.
/// Confined to its channel's event loop.
final class RedisConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var promise: EventLoopPromise<RESPValue>?
        var replies: Int
    }

    private let parser: RESPParser
    private let maxPending: Int
    private let onMessage: (@Sendable (RedisPubSubMessage) -> Void)?
    private var buffer: ByteBuffer?
    private var pending = CircularBuffer<Pending>()
    private var failed = false

    /// `onMessage` non-nil puts the connection in pub/sub mode: `message`/`pmessage` replies go to it.
    init(parserLimits: RESPParser.Limits, maxPending: Int, onMessage: (@Sendable (RedisPubSubMessage) -> Void)?) {
        self.parser = RESPParser(limits: parserLimits)
        self.maxPending = maxPending
        self.onMessage = onMessage
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = self.unwrapOutboundIn(data)
        if self.failed {
            request.promise?.fail(RedisError.connectionClosed)
            promise?.fail(RedisError.connectionClosed)
            return
        }
        if self.pending.count >= self.maxPending {
            request.promise?.fail(RedisError.tooManyPendingCommands)
            promise?.fail(RedisError.tooManyPendingCommands)
            return
        }
        var out = context.channel.allocator.buffer(capacity: 64 + request.command.arguments.reduce(0) { $0 + $1.readableBytes + 16 })
        request.command.write(into: &out)
        self.pending.append(Pending(promise: request.promise, replies: max(1, request.replies)))
        context.write(self.wrapOutboundOut(out), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = self.unwrapInboundIn(data)
        if self.buffer == nil {
            self.buffer = incoming
        } else {
            self.buffer!.writeBuffer(&incoming)
        }
        do {
            while var buffer = self.buffer {
                guard let value = try self.parser.next(&buffer) else { break }
                self.buffer = buffer
                self.handle(value)
            }
        } catch {
            self.failAll(error)
            context.close(promise: nil)
            return
        }
        if let buffer = self.buffer {
            if buffer.readableBytes == 0 {
                self.buffer = nil
            } else if buffer.readerIndex > 64 << 10 {
                self.buffer!.discardReadBytes()
            }
        }
    }

    private func handle(_ value: RESPValue) {
        if let onMessage = self.onMessage, let message = Self.pubSubMessage(value) {
            onMessage(message)
            return
        }
        guard var head = self.pending.popFirst() else { return }  // an unsolicited reply: ignore it
        if let promise = head.promise {
            if case .error(let message) = value {
                promise.fail(RedisError.server(message))
            } else {
                promise.succeed(value)
            }
            head.promise = nil
        }
        head.replies -= 1
        if head.replies > 0 { self.pending.prepend(head) }
    }

    static func pubSubMessage(_ value: RESPValue) -> RedisPubSubMessage? {
        guard let elements = value.elements, let kind = elements.first?.string else { return nil }
        switch kind {
        case "message" where elements.count == 3:
            guard let channel = elements[1].string, let payload = elements[2].bytes else { return nil }
            return RedisPubSubMessage(channel: channel, pattern: nil, payload: payload)
        case "pmessage" where elements.count == 4:
            guard let pattern = elements[1].string, let channel = elements[2].string, let payload = elements[3].bytes else { return nil }
            return RedisPubSubMessage(channel: channel, pattern: pattern, payload: payload)
        default:
            return nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.failAll(RedisError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        self.failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: Error) {
        self.failed = true
        while let head = self.pending.popFirst() { head.promise?.fail(error) }
    }
}
