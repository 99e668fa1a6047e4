/// A JSON object that keeps its keys in insertion order, as JavaScript objects do.
///
/// Small objects (the common case for event payloads) are searched linearly, which beats hashing for a
/// handful of keys and allocates nothing extra; once an object grows past ``indexThreshold`` keys a
/// key → position index is built so lookups stay O(1) on average.
///
/// Setting an existing key replaces its value in place (its position does not change), like assigning a
/// property of a JavaScript object; when a parsed document repeats a key, the last value wins at the
/// first position, as `JSON.parse` does.
///
/// Equality ignores key order: two objects are equal when they have the same keys with equal values.
public struct JSONObject: Sendable {
    /// One key and its value.
    public typealias Element = (key: String, value: JSONValue)

    /// Above this many keys, lookups go through a hash index instead of a linear scan.
    public static let indexThreshold = 8

    /// Keys and values in one array: one allocation per object.
    @usableFromInline
    internal var _entries: [Element]
    @usableFromInline
    internal var _index: [String: Int]?

    /// Creates an empty object.
    @inlinable
    public init() {
        self._entries = []
        self._index = nil
    }

    /// Creates an empty object with room for `minimumCapacity` keys.
    public init(minimumCapacity: Int) {
        self.init()
        self.reserveCapacity(minimumCapacity)
    }

    /// Creates an object from key-value pairs in order; a repeated key keeps its first position and its last value.
    public init(_ elements: some Sequence<(String, JSONValue)>) {
        self.init()
        for (key, value) in elements {
            self[key] = value
        }
    }

    /// The number of keys.
    @inlinable
    public var count: Int { self._entries.count }

    /// Whether the object has no keys.
    @inlinable
    public var isEmpty: Bool { self._entries.isEmpty }

    /// The keys in insertion order.
    @inlinable
    public var keys: [String] { self._entries.map(\.key) }

    /// The values in key insertion order.
    @inlinable
    public var values: [JSONValue] { self._entries.map(\.value) }

    /// Reserves room for `minimumCapacity` keys.
    public mutating func reserveCapacity(_ minimumCapacity: Int) {
        self._entries.reserveCapacity(minimumCapacity)
    }

    /// The position of `key`, or nil when absent.
    @inlinable
    public func index(forKey key: String) -> Int? {
        if let index = self._index {
            return index[key]
        }
        return self._entries.firstIndex { $0.key == key }
    }

    /// The value for `key`; setting nil removes the key.
    @inlinable
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = self.index(forKey: key) else { return nil }
            return self._entries[position].value
        }
        set {
            if let newValue {
                self.updateValue(newValue, forKey: key)
            } else {
                self.removeValue(forKey: key)
            }
        }
    }

    /// Sets `value` for `key` and returns the previous value; a new key is appended at the end.
    @discardableResult
    public mutating func updateValue(_ value: JSONValue, forKey key: String) -> JSONValue? {
        if let position = self.index(forKey: key) {
            let old = self._entries[position].value
            self._entries[position].value = value
            return old
        }
        self.append(key: key, value: value)
        return nil
    }

    /// Appends a key known to be absent (used by the parser after its own check).
    @usableFromInline
    internal mutating func append(key: String, value: JSONValue) {
        self._entries.append((key: key, value: value))
        if self._index != nil {
            self._index![key] = self._entries.count - 1
        } else if self._entries.count > Self.indexThreshold {
            self.rebuildIndex()
        }
    }

    /// Removes `key` and returns its value; later keys keep their relative order.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = self.index(forKey: key) else { return nil }
        let old = self._entries.remove(at: position).value
        if self._entries.count > Self.indexThreshold {
            self.rebuildIndex()
        } else {
            self._index = nil
        }
        return old
    }

    private mutating func rebuildIndex() {
        var index = [String: Int](minimumCapacity: self._entries.count * 2)
        for (position, entry) in self._entries.enumerated() {
            index[entry.key] = position
        }
        self._index = index
    }

    /// Replaces the value at `position` (for in-place rewriting such as binary reconstruction).
    @usableFromInline
    internal mutating func withValue<R>(at position: Int, _ body: (inout JSONValue) throws -> R) rethrows -> R {
        try body(&self._entries[position].value)
    }
}

extension JSONObject: RandomAccessCollection {
    /// Positions are offsets in insertion order.
    public typealias Index = Int

    /// The first position.
    @inlinable
    public var startIndex: Int { 0 }

    /// One past the last position.
    @inlinable
    public var endIndex: Int { self._entries.count }

    /// The key and value at `position`.
    @inlinable
    public subscript(position: Int) -> Element {
        self._entries[position]
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    /// Creates an object from a literal, keeping the literal's order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }
}

extension JSONObject: Hashable {
    /// Same keys with equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for position in 0..<lhs.count {
            let entry = lhs._entries[position]
            guard let other = rhs[entry.key], other == entry.value else { return false }
        }
        return true
    }

    /// Order-independent hash, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.count)
        var combined = 0
        for position in 0..<self.count {
            var entryHasher = Hasher()
            entryHasher.combine(self._entries[position].key)
            entryHasher.combine(self._entries[position].value)
            combined ^= entryHasher.finalize()
        }
        hasher.combine(combined)
    }
}

extension JSONObject: CustomStringConvertible {
    /// The object as compact JSON.
    public var description: String { JSONValue.object(self).description }
}
