/// Why a JSON text was rejected, and at which byte offset (from the start of the JSON text).
public struct JSONParsingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure, comparable in tests and usable for metrics.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let raw: UInt8
        private init(_ raw: UInt8) { self.raw = raw }

        /// The input ended inside a value.
        public static let unexpectedEnd = Code(0)
        /// A byte that cannot start or continue the value there.
        public static let unexpectedByte = Code(1)
        /// A backslash escape that JSON does not define, or a bad `\uXXXX`.
        public static let invalidEscape = Code(2)
        /// An unescaped control character (below U+0020) inside a string.
        public static let controlCharacterInString = Code(3)
        /// A string whose bytes are not valid UTF-8.
        public static let invalidUTF8 = Code(4)
        /// A number that does not follow the JSON grammar (`01`, `1.`, `-`, `1e`).
        public static let invalidNumber = Code(5)
        /// Arrays and objects nested deeper than the configured limit.
        public static let nestingTooDeep = Code(6)
        /// Bytes after a complete value (other than whitespace).
        public static let trailingData = Code(7)

        /// The name of the code.
        public var description: String {
            switch self.raw {
            case 0: "unexpected end of input"
            case 1: "unexpected byte"
            case 2: "invalid escape"
            case 3: "control character in string"
            case 4: "invalid UTF-8"
            case 5: "invalid number"
            case 6: "nesting too deep"
            default: "trailing data after the value"
            }
        }
    }

    /// The kind of failure.
    public let code: Code
    /// The byte offset in the JSON text where the failure was detected.
    public let offset: Int
    private let byte: UInt8?

    internal init(_ code: Code, at offset: Int, byte: UInt8? = nil) {
        self.code = code
        self.offset = offset
        self.byte = byte
    }

    /// A human-readable account, e.g. `invalid JSON: unexpected byte 0x7D at offset 12`.
    public var description: String {
        var text = "invalid JSON: \(self.code)"
        if let byte = self.byte {
            text += " 0x" + String(byte, radix: 16, uppercase: true)
        }
        return text + " at offset \(self.offset)"
    }
}
