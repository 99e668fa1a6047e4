/// The path and query of an HTTP request target (`/socket.io/?EIO=4&transport=polling`), percent-decoded.
public struct RequestTarget: Hashable, Sendable {
    /// The decoded path.
    public var path: String
    /// The raw path, as sent (not percent-decoded).
    public var rawPath: String
    /// The query parameters in order; a name may repeat.
    public var queryItems: [(name: String, value: String)]

    /// Splits and decodes `uri`. `+` in the query reads as a space, like HTML forms.
    public init(_ uri: String) {
        let parts = uri.utf8.split(separator: UInt8(ascii: "?"), maxSplits: 1, omittingEmptySubsequences: false)
        let rawPath = parts.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        self.rawPath = rawPath
        self.path = RequestTarget.percentDecode(Substring(rawPath).utf8, plusIsSpace: false) ?? rawPath
        self.queryItems = []
        if parts.count == 2 {
            for pair in parts[1].split(separator: UInt8(ascii: "&")) {
                let nameValue = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
                let name = RequestTarget.percentDecode(nameValue[0], plusIsSpace: true) ?? ""
                let value = nameValue.count > 1 ? RequestTarget.percentDecode(nameValue[1], plusIsSpace: true) ?? "" : ""
                self.queryItems.append((name, value))
            }
        }
    }

    /// The first value of the query parameter `name`.
    public subscript(query name: String) -> String? {
        self.queryItems.first(where: { $0.name == name })?.value
    }

    /// The query as a dictionary, first value winning.
    public var query: [String: String] {
        var result: [String: String] = [:]
        for item in self.queryItems where result[item.name] == nil { result[item.name] = item.value }
        return result
    }

    /// Percent-decodes bytes; nil when an escape is malformed or the result is not UTF-8.
    public static func percentDecode<Bytes: Collection>(_ bytes: Bytes, plusIsSpace: Bool) -> String?
    where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                guard first != bytes.endIndex else { return nil }
                let second = bytes.index(after: first)
                guard second != bytes.endIndex, let high = hexValue(bytes[first]), let low = hexValue(bytes[second]) else {
                    return nil
                }
                output.append(high << 4 | low)
                index = bytes.index(after: second)
                continue
            }
            output.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            index = bytes.index(after: index)
        }
        return String(validating: output, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    public static func == (lhs: RequestTarget, rhs: RequestTarget) -> Bool {
        lhs.rawPath == rhs.rawPath && lhs.queryItems.elementsEqual(rhs.queryItems, by: { $0 == $1 })
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.rawPath)
        for item in self.queryItems {
            hasher.combine(item.name)
            hasher.combine(item.value)
        }
    }
}
