/// bcrypt password hashes (`$2a$`, `$2b$`, `$2y$`, cost 4 to 31), as made by OpenBSD, bcryptjs (Node.js),
/// PyPI's `bcrypt` or `htpasswd -B`: the admin UI's basic authentication stores only such a hash.
///
/// ```swift
/// BCrypt.verify("changeit", hash: "$2b$10$...")   // true or false, in constant time once hashed
/// ```
public enum BCrypt {
    /// A hash taken apart: variant letter, cost, 16-byte salt and the 23-byte digest.
    struct Parsed {
        var minor: UInt8
        var cost: Int
        var salt: [UInt8]
        var digest: [UInt8]
    }

    /// The cost (log2 of the rounds) of `hash`, or nil when it is not a bcrypt hash this type reads.
    public static func cost(of hash: String) -> Int? { self.parse(hash)?.cost }

    /// Whether `password` matches `hash`. False for anything that is not a valid hash. The digests are
    /// compared in constant time (every byte, no early exit).
    public static func verify(_ password: String, hash: String) -> Bool {
        guard let parsed = self.parse(hash) else { return false }
        let computed = self.digest(password: Array(password.utf8), salt: parsed.salt, cost: parsed.cost)
        return self.constantTimeEquals(computed, parsed.digest)
    }

    /// A new `$2b$` hash of `password` with a random salt and cost `cost` (4...31).
    public static func hash(_ password: String, cost: Int = 10) -> String {
        precondition((4...31).contains(cost), "bcrypt cost must be between 4 and 31")
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return self.hash(password, salt: salt, cost: cost)
    }

    /// The `$2b$` hash of `password` with this 16-byte `salt`.
    static func hash(_ password: String, salt: [UInt8], cost: Int, minor: UInt8 = UInt8(ascii: "b")) -> String {
        let digest = self.digest(password: Array(password.utf8), salt: salt, cost: cost)
        let costText = cost < 10 ? "0\(cost)" : "\(cost)"
        return "$2\(Character(Unicode.Scalar(minor)))$\(costText)$" + Radix64.encode(salt) + Radix64.encode(digest)
    }

    /// Compares two byte strings without stopping at the first difference.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    static func parse(_ hash: String) -> Parsed? {
        let bytes = Array(hash.utf8)
        // $2b$10$ + 22 characters of salt + 31 of digest
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"), bytes[3] == UInt8(ascii: "$"),
            bytes[6] == UInt8(ascii: "$")
        else { return nil }
        let minor = bytes[2]
        guard minor == UInt8(ascii: "a") || minor == UInt8(ascii: "b") || minor == UInt8(ascii: "y") else { return nil }
        let zero = UInt8(ascii: "0")
        guard (zero...zero + 9).contains(bytes[4]), (zero...zero + 9).contains(bytes[5]) else { return nil }
        let cost = Int(bytes[4] - zero) * 10 + Int(bytes[5] - zero)
        guard (4...31).contains(cost),
            let salt = Radix64.decode(bytes[7..<29], count: 16),
            let digest = Radix64.decode(bytes[29..<60], count: 23)
        else { return nil }
        return Parsed(minor: minor, cost: cost, salt: salt, digest: digest)
    }

    /// The 23 bytes bcrypt keeps: "OrpheanBeholderScryDoubt" encrypted 64 times with the expensive key
    /// schedule (EksBlowfish) of the password (NUL-terminated, at most 72 bytes) and salt.
    static func digest(password: [UInt8], salt: [UInt8], cost: Int) -> [UInt8] {
        var key = password
        key.append(0)
        if key.count > 72 { key.removeLast(key.count - 72) }
        var state = Blowfish()
        state.expensiveKeySchedule(key: key, salt: salt, cost: cost)
        var text: [UInt32] = [0x4F72_7068, 0x6561_6E42, 0x6568_6F6C, 0x6465_7253, 0x6372_7944, 0x6F75_6274]
        for _ in 0..<64 {
            for block in stride(from: 0, to: 6, by: 2) {
                (text[block], text[block + 1]) = state.encrypt(text[block], text[block + 1])
            }
        }
        var output: [UInt8] = []
        output.reserveCapacity(24)
        for word in text {
            output.append(UInt8(truncatingIfNeeded: word >> 24))
            output.append(UInt8(truncatingIfNeeded: word >> 16))
            output.append(UInt8(truncatingIfNeeded: word >> 8))
            output.append(UInt8(truncatingIfNeeded: word))
        }
        return Array(output.prefix(23))
    }
}

/// Blowfish's subkeys, with the key schedules bcrypt uses.
struct Blowfish {
    var p: [UInt32] = BlowfishPi.p
    var s: [UInt32] = BlowfishPi.s

    @inline(__always)
    private static func f(_ s: UnsafeMutableBufferPointer<UInt32>, _ x: UInt32) -> UInt32 {
        let a = s[Int(x >> 24)]
        let b = s[256 + Int((x >> 16) & 0xFF)]
        let c = s[512 + Int((x >> 8) & 0xFF)]
        let d = s[768 + Int(x & 0xFF)]
        return ((a &+ b) ^ c) &+ d
    }

    @inline(__always)
    private static func encrypt(_ left: UInt32, _ right: UInt32, p: UnsafeMutableBufferPointer<UInt32>, s: UnsafeMutableBufferPointer<UInt32>) -> (UInt32, UInt32) {
        var l = left ^ p[0]
        var r = right
        var round = 1
        while round < 16 {
            r ^= self.f(s, l) ^ p[round]
            l ^= self.f(s, r) ^ p[round + 1]
            round += 2
        }
        return (r ^ p[17], l)
    }

    mutating func encrypt(_ left: UInt32, _ right: UInt32) -> (UInt32, UInt32) {
        self.p.withUnsafeMutableBufferPointer { p in
            self.s.withUnsafeMutableBufferPointer { s in Self.encrypt(left, right, p: p, s: s) }
        }
    }

    /// EksBlowfishSetup: the salted schedule, then 2^cost alternate plain schedules of key and salt.
    mutating func expensiveKeySchedule(key: [UInt8], salt: [UInt8], cost: Int) {
        self.p.withUnsafeMutableBufferPointer { p in
            self.s.withUnsafeMutableBufferPointer { s in
                key.withUnsafeBufferPointer { key in
                    salt.withUnsafeBufferPointer { salt in
                        Self.expand(p: p, s: s, key: key, salt: salt)
                        let rounds = UInt64(1) << UInt64(cost)
                        var round: UInt64 = 0
                        while round < rounds {
                            Self.expand(p: p, s: s, key: key, salt: nil)
                            Self.expand(p: p, s: s, key: salt, salt: nil)
                            round += 1
                        }
                    }
                }
            }
        }
    }

    /// Reads the next 32 bits of `data` (big-endian, cycling over it).
    @inline(__always)
    private static func word(_ data: UnsafeBufferPointer<UInt8>, _ offset: inout Int) -> UInt32 {
        var word: UInt32 = 0
        for _ in 0..<4 {
            word = (word << 8) | UInt32(data[offset])
            offset = offset + 1 == data.count ? 0 : offset + 1
        }
        return word
    }

    /// Blowfish's key schedule; with `salt`, bcrypt's variant that mixes the salt into every block.
    private static func expand(
        p: UnsafeMutableBufferPointer<UInt32>,
        s: UnsafeMutableBufferPointer<UInt32>,
        key: UnsafeBufferPointer<UInt8>,
        salt: UnsafeBufferPointer<UInt8>?
    ) {
        var keyOffset = 0
        for index in 0..<18 { p[index] ^= self.word(key, &keyOffset) }
        var saltOffset = 0
        var l: UInt32 = 0
        var r: UInt32 = 0
        func next() {
            if let salt {
                l ^= self.word(salt, &saltOffset)
                r ^= self.word(salt, &saltOffset)
            }
            (l, r) = self.encrypt(l, r, p: p, s: s)
        }
        for index in stride(from: 0, to: 18, by: 2) {
            next()
            p[index] = l
            p[index + 1] = r
        }
        for index in stride(from: 0, to: 1024, by: 2) {
            next()
            s[index] = l
            s[index + 1] = r
        }
    }
}

/// bcrypt's own base64 (alphabet `./A-Za-z0-9`, no padding).
enum Radix64 {
    static let alphabet = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int8(index) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let b0 = Int(bytes[index])
            out.append(alphabet[b0 >> 2])
            var carry = (b0 & 0x03) << 4
            guard index + 1 < bytes.count else {
                out.append(alphabet[carry])
                break
            }
            let b1 = Int(bytes[index + 1])
            out.append(alphabet[carry | (b1 >> 4)])
            carry = (b1 & 0x0F) << 2
            guard index + 2 < bytes.count else {
                out.append(alphabet[carry])
                break
            }
            let b2 = Int(bytes[index + 2])
            out.append(alphabet[carry | (b2 >> 6)])
            out.append(alphabet[b2 & 0x3F])
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `text` into exactly `count` bytes; nil on a character outside the alphabet.
    static func decode(_ text: ArraySlice<UInt8>, count: Int) -> [UInt8]? {
        var sextets: [Int] = []
        for byte in text {
            let value = self.values[Int(byte)]
            guard value >= 0 else { return nil }
            sextets.append(Int(value))
        }
        var out: [UInt8] = []
        var index = 0
        while out.count < count, index + 1 < sextets.count {
            out.append(UInt8(truncatingIfNeeded: (sextets[index] << 2) | (sextets[index + 1] >> 4)))
            if out.count == count || index + 2 >= sextets.count { break }
            out.append(UInt8(truncatingIfNeeded: (sextets[index + 1] << 4) | (sextets[index + 2] >> 2)))
            if out.count == count || index + 3 >= sextets.count { break }
            out.append(UInt8(truncatingIfNeeded: (sextets[index + 2] << 6) | sextets[index + 3]))
            index += 4
        }
        return out.count == count ? out : nil
    }
}
