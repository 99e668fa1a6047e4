import EngineIOCore
import NIOCore
import NIOHTTP1

/// The request that opened a session, as the session keeps it for its whole life: the request target and
/// the headers in one byte array (one allocation, where the request's own form holds an array of header
/// pairs, a string for each long name or value, the target's string and its decoded query items).
/// ``EngineHandshakeRequest`` is rebuilt from it when asked for (`socket.handshake`), which is rare.
struct StoredHandshake {
    /// The request target, then each header's name and value, each as a 4-byte length and its UTF-8
    /// bytes.
    private let text: [UInt8]
    /// The client's address.
    let remoteAddress: SocketAddress?
    let time: NIODeadline
    let isSecure: Bool
    let transport: EngineTransport
    /// What a framework's middleware made of the request, when mounted behind it.
    let user: (any Sendable)?

    init(_ request: EngineHandshakeRequest) {
        var size = request.uri.utf8.count + 4
        for (name, value) in request.httpHeaders { size += name.utf8.count + value.utf8.count + 8 }
        var text: [UInt8] = []
        text.reserveCapacity(size)
        Self.append(request.uri, to: &text)
        for (name, value) in request.httpHeaders {
            Self.append(name, to: &text)
            Self.append(value, to: &text)
        }
        self.text = text
        self.remoteAddress = request.remoteAddress
        self.time = request.time
        self.isSecure = request.isSecure
        self.transport = request.transport
        self.user = request.user
    }

    private static func append(_ string: String, to text: inout [UInt8]) {
        let count = UInt32(truncatingIfNeeded: string.utf8.count)
        withUnsafeBytes(of: count.littleEndian) { text.append(contentsOf: $0) }
        text.append(contentsOf: string.utf8)
    }

    /// The strings in `text`, in order.
    private var strings: [String] {
        var strings: [String] = []
        var index = 0
        while index + 4 <= self.text.count {
            var count = 0
            for shift in 0..<4 { count |= Int(self.text[index + shift]) << (8 * shift) }
            index += 4
            strings.append(String(decoding: self.text[index..<(index + count)], as: UTF8.self))
            index += count
        }
        return strings
    }

    /// The request as the application sees it.
    var request: EngineHandshakeRequest {
        let strings = self.strings
        let uri = strings.first ?? ""
        var headers: [(String, String)] = []
        headers.reserveCapacity(strings.count / 2)
        var index = 1
        while index + 1 < strings.count {
            headers.append((strings[index], strings[index + 1]))
            index += 2
        }
        return EngineHandshakeRequest(
            uri: uri,
            target: RequestTarget(uri),
            httpHeaders: HTTPHeaders(headers),
            remoteAddress: self.remoteAddress,
            isSecure: self.isSecure,
            time: self.time,
            transport: self.transport,
            user: self.user
        )
    }
}
