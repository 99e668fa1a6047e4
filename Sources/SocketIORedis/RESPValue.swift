import NIOCore

/// A value of the Redis serialization protocol: RESP2 types, plus the RESP3 types a server may send
/// (all mapped onto these cases so that callers handle one shape).
public enum RESPValue: Sendable, Hashable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR ...`: the server refused a command.
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$5\r\nhello`; nil is the RESP2 null bulk string (`$-1`) or the RESP3 null (`_`).
    case bulkString(ByteBuffer?)
    /// `*2\r\n...`; nil is the RESP2 null array (`*-1`). RESP3 sets and pushes arrive as arrays too, and
    /// maps as flat key/value arrays.
    case array([RESPValue]?)
    /// RESP3 `,3.14`.
    case double(Double)
    /// RESP3 `#t` / `#f`.
    case boolean(Bool)

    /// The text of a simple or bulk string.
    public var string: String? {
        switch self {
        case .simpleString(let text): return text
        case .bulkString(let buffer?): return String(buffer: buffer)
        default: return nil
        }
    }

    /// The bytes of a bulk or simple string.
    public var bytes: ByteBuffer? {
        switch self {
        case .bulkString(let buffer?): return buffer
        case .simpleString(let text): return ByteBuffer(string: text)
        default: return nil
        }
    }

    /// The integer value (also parsed from a string reply).
    public var int: Int64? {
        switch self {
        case .integer(let value): return value
        case .simpleString, .bulkString: return self.string.flatMap { Int64($0) }
        default: return nil
        }
    }

    /// The elements of an array.
    public var elements: [RESPValue]? {
        if case .array(let elements?) = self { return elements }
        return nil
    }
}

/// A command: its name and arguments, sent as an array of bulk strings.
public struct RedisCommand: Sendable, Hashable {
    /// The name and the arguments.
    public var arguments: [ByteBuffer]

    /// A command from text arguments (`RedisCommand("SELECT", "2")`).
    public init(_ name: String, _ arguments: String...) {
        self.arguments = [ByteBuffer(string: name)] + arguments.map { ByteBuffer(string: $0) }
    }

    /// A command from raw arguments, the first being the name.
    public init(arguments: [ByteBuffer]) {
        self.arguments = arguments
    }

    /// The command's name, uppercased.
    public var name: String { self.arguments.first.map { String(buffer: $0).uppercased() } ?? "" }

    /// Appends the RESP encoding (`*N\r\n$len\r\narg\r\n...`).
    public func write(into buffer: inout ByteBuffer) {
        buffer.writeStaticString("*")
        buffer.writeString(String(self.arguments.count))
        buffer.writeStaticString("\r\n")
        for argument in self.arguments {
            buffer.writeStaticString("$")
            buffer.writeString(String(argument.readableBytes))
            buffer.writeStaticString("\r\n")
            buffer.writeImmutableBuffer(argument)
            buffer.writeStaticString("\r\n")
        }
    }
}
