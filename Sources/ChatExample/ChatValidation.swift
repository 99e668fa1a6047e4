/// Cleans what browsers send: names and texts are trimmed, bounded, and free of control characters.
enum ChatValidation {
    static let maxNickname = 24
    static let maxRoom = 32
    static let maxText = 2000

    /// A nickname, or nil when nothing usable remains.
    static func nickname(_ raw: String?) -> String? {
        clean(raw, limit: maxNickname)
    }

    /// A room name: letters, digits, `-`, `_`, `.`, spaces inside; lowercased.
    static func room(_ raw: String?) -> String? {
        guard let name = clean(raw, limit: maxRoom)?.lowercased() else { return nil }
        let allowed = name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0.properties.numericType != nil || "-_. ".unicodeScalars.contains($0) }
        return allowed ? name : nil
    }

    /// A message text.
    static func text(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let kept = String(String.UnicodeScalarView(raw.unicodeScalars.filter { $0 == "\n" || !($0.value < 0x20 || $0.value == 0x7f) }))
        let trimmed = kept.trimmingWhitespace()
        guard !trimmed.isEmpty else { return nil }
        return String(trimmed.prefix(maxText))
    }

    private static func clean(_ raw: String?, limit: Int) -> String? {
        guard let raw else { return nil }
        let kept = String(String.UnicodeScalarView(raw.unicodeScalars.filter { !($0.value < 0x20 || $0.value == 0x7f) }))
        let trimmed = kept.trimmingWhitespace()
        guard !trimmed.isEmpty else { return nil }
        return String(trimmed.prefix(limit))
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
