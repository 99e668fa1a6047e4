import NIOCore

/// A message received on a subscribed channel.
public struct RedisPubSubMessage: Sendable {
    /// The channel it was published on.
    public var channel: String
    /// The pattern that matched, for `PSUBSCRIBE` subscriptions.
    public var pattern: String?
    /// The published bytes.
    public var payload: ByteBuffer
    /// Whether it came through sharded Pub/Sub (`SPUBLISH`, received as `smessage`).
    public var isSharded: Bool

    /// Creates a message.
    public init(channel: String, pattern: String?, payload: ByteBuffer, isSharded: Bool = false) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
        self.isSharded = isSharded
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
        /// For `SUNSUBSCRIBE <channel>`: the channel, to tell its confirmation from a server's push.
        var shardUnsubscribe: String?
    }

    private var parser: RESPParser
    private let maxPending: Int
    private let onMessage: (@Sendable (RedisPubSubMessage) -> Void)?
    private let onShardUnsubscribed: (@Sendable (String) -> Void)?
    private var buffer: ByteBuffer?
    private var pending = CircularBuffer<Pending>()
    private var failed = false

    /// `onMessage` non-nil puts the connection in pub/sub mode: `message`/`pmessage`/`smessage` replies go
    /// to it, and `onShardUnsubscribed` hears of the sharded channels the server dropped on its own (their
    /// slot moved to another node).
    init(
        parserLimits: RESPParser.Limits,
        maxPending: Int,
        onMessage: (@Sendable (RedisPubSubMessage) -> Void)?,
        onShardUnsubscribed: (@Sendable (String) -> Void)? = nil
    ) {
        self.parser = RESPParser(limits: parserLimits)
        self.maxPending = maxPending
        self.onMessage = onMessage
        self.onShardUnsubscribed = onShardUnsubscribed
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
        var shardUnsubscribe: String?
        if request.command.arguments.count == 2, request.command.name == "SUNSUBSCRIBE" {
            shardUnsubscribe = String(buffer: request.command.arguments[1])
        }
        self.pending.append(Pending(promise: request.promise, replies: max(1, request.replies), shardUnsubscribe: shardUnsubscribe))
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
                self.buffer = nil  // not shared with `buffer` while parsing: no copy on write
                let value = try self.parser.parseNext(&buffer)
                self.buffer = buffer
                guard let value else { break }
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
        if self.onMessage != nil, let channel = Self.shardUnsubscription(value), self.pending.first?.shardUnsubscribe != channel {
            // Not the answer to our SUNSUBSCRIBE: the server dropped the subscription (its slot moved).
            self.onShardUnsubscribed?(channel)
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
        case "smessage" where elements.count == 3:
            guard let channel = elements[1].string, let payload = elements[2].bytes else { return nil }
            return RedisPubSubMessage(channel: channel, pattern: nil, payload: payload, isSharded: true)
        case "pmessage" where elements.count == 4:
            guard let pattern = elements[1].string, let channel = elements[2].string, let payload = elements[3].bytes else { return nil }
            return RedisPubSubMessage(channel: channel, pattern: pattern, payload: payload)
        default:
            return nil
        }
    }

    /// The channel of a `["sunsubscribe", channel, count]` reply or push.
    static func shardUnsubscription(_ value: RESPValue) -> String? {
        guard let elements = value.elements, elements.count == 3, elements[0].string == "sunsubscribe" else { return nil }
        return elements[1].string
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
