import NIOCore
import NIOPosix
import NIOWebSocket

/// What a benchmark client does with the messages it receives.
enum BenchRole: String, Sendable {
    /// Counts `bench` broadcasts and records their latency.
    case receiver
    /// Sends events with acks and records round trips.
    case echo
    /// Only connects (idle connections, heartbeats answered).
    case idle
}

/// One benchmark client: a raw WebSocket connection (`/socket.io/?EIO=4&transport=websocket`, or a bare
/// WebSocket for the calibration server) doing the least work a Socket.IO client can do: answer pings,
/// join the main namespace, and scan incoming frames for a send timestamp.
///
/// Confined to its worker's single event loop (hence `@unchecked Sendable`).
final class BenchConnection: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Phase {
        case handshaking(ByteBuffer)
        case open
    }

    let target: BenchTarget
    let role: BenchRole
    let stats: BenchStats
    private var phase: Phase = .handshaking(ByteBuffer())
    private var context: ChannelHandlerContext?
    private var ackId = 0
    /// Called on each delivery (the broadcast sender paces itself with it).
    var onDelivery: (@Sendable () -> Void)?

    init(target: BenchTarget, role: BenchRole, stats: BenchStats) {
        self.target = target
        self.role = role
        self.stats = stats
    }

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        let path = self.target.bare ? "/" : "/socket.io/?EIO=4&transport=websocket"
        var request = context.channel.allocator.buffer(capacity: 256)
        request.writeString(
            "GET \(path) HTTP/1.1\r\nHost: \(self.target.host):\(self.target.port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        context.writeAndFlush(self.wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = self.unwrapInboundIn(data)
        switch self.phase {
        case .handshaking(var pending):
            pending.writeBuffer(&bytes)
            guard let end = pending.readableBytesView.firstRange(of: "\r\n\r\n".utf8) else {
                self.phase = .handshaking(pending)
                return
            }
            let headerLength = end.upperBound - pending.readerIndex
            guard pending.readableBytesView.starts(with: "HTTP/1.1 101".utf8) else {
                self.stats.failed()
                context.close(promise: nil)
                return
            }
            pending.moveReaderIndex(forwardBy: headerLength)
            self.phase = .open
            // Frames from here on: hand them (and any bytes already read) to a frame decoder placed before us.
            let decoder = ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: 1 << 20))
            try! context.pipeline.syncOperations.addHandler(WebSocketFrameEncoder(), position: .before(self))
            try! context.pipeline.syncOperations.addHandler(decoder, position: .before(self))
            try! context.pipeline.syncOperations.addHandler(FrameReader(connection: self), position: .after(decoder))
            if self.target.bare { self.connected() }
            if pending.readableBytes > 0 { context.pipeline.syncOperations.fireChannelRead(NIOAny(pending)) }
        case .open:
            context.fireChannelRead(data)
        }
    }

    /// The namespace (or the bare socket) is open.
    func connected() {
        self.stats.connected()
    }

    /// A complete text frame from the server.
    func received(text: ByteBuffer) {
        let view = text.readableBytesView
        guard let first = view.first else { return }
        if self.target.bare {
            self.recordTimestamp(in: text)
            return
        }
        switch first {
        case UInt8(ascii: "2"):  // ping
            self.send(text: "3")
        case UInt8(ascii: "0"):  // Engine.IO open: join the main namespace
            self.send(text: "40")
        case UInt8(ascii: "4"):
            guard view.count > 1 else { return }
            switch view[view.startIndex + 1] {
            case UInt8(ascii: "0"): self.connected()
            case UInt8(ascii: "2"), UInt8(ascii: "3"): self.recordTimestamp(in: text)
            default: break
            }
        default:
            break
        }
    }

    private func recordTimestamp(in text: ByteBuffer) {
        guard let sent = BenchClock.timestamp(in: text) else { return }
        self.stats.delivered(latencyNanos: BenchClock.now() &- sent)
        self.onDelivery?()
        if self.role == .echo { self.sendEcho() }
    }

    /// Sends one echo request with an ack (or a bare echo frame).
    func sendEcho() {
        let payload = "{\"t\":\(BenchClock.now())}"
        if self.target.bare {
            self.send(text: "E" + payload)
        } else {
            self.ackId &+= 1
            self.send(text: "42\(self.ackId)[\"echo\",\(payload)]")
        }
    }

    func send(text: String) {
        guard let context = self.context else { return }
        var payload = context.channel.allocator.buffer(capacity: text.utf8.count)
        payload.writeString(text)
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: payload)
        context.writeAndFlush(NIOAny(frame), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.stats.closed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// Reads WebSocket frames for a `BenchConnection` (text frames; a close frame ends the connection).
final class FrameReader: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame

    private let connection: BenchConnection

    init(connection: BenchConnection) {
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch frame.opcode {
        case .text: self.connection.received(text: frame.data)
        case .connectionClose: context.close(promise: nil)
        default: break
        }
    }
}

