import Testing

@testable import SocketIOAdminUI

/// bcrypt against published vectors (OpenBSD's, as jBCrypt, bcryptjs and others test them) and round trips.
@Suite struct BCryptTests {
    /// (password, hash) from the OpenBSD / jBCrypt test suite, costs 4 to 8 (higher costs take seconds in
    /// a debug build; the interop tests check cost 10 hashes made by PyPI's bcrypt).
    static let vectors: [(String, String)] = [
        ("", "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s."),
        ("", "$2a$08$HqWuK6/Ng6sg9gQzbLrgb.Tl.ZHfXLhvt/SgVyWhQqgqcZ7ZuUtye"),
        ("a", "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe"),
        ("a", "$2a$08$cfcvVd2aQ8CMvoMpP2EBfeodLEkkFJ9umNEfPD18.hUF62qqlC/V."),
        ("abc", "$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i"),
        ("abcdefghijklmnopqrstuvwxyz", "$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC"),
        ("~!@#$%^&*()      ~!@#$%^&*()PNBFRD", "$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO"),
        ("vapor", "$2a$04$TI13sbmh3IHnmRepeEFoJOkVZWsn5S1O8QOwm8ZU5gNIpJog9pXZm"),
    ]

    @Test(arguments: vectors)
    func publishedVectorsVerify(password: String, hash: String) {
        #expect(BCrypt.verify(password, hash: hash))
        #expect(!BCrypt.verify(password + "x", hash: hash))
    }

    @Test(arguments: vectors)
    func hashingWithTheVectorsSaltGivesTheVector(password: String, hash: String) throws {
        let parsed = try #require(BCrypt.parse(hash))
        #expect(BCrypt.hash(password, salt: parsed.salt, cost: parsed.cost, minor: parsed.minor) == hash)
    }

    @Test func the2band2yPrefixesAreTheSameAlgorithmFor72BytesOrLess() {
        for (password, hash) in Self.vectors {
            for minor in ["b", "y"] {
                let variant = "$2" + minor + String(hash.dropFirst(3))
                #expect(BCrypt.verify(password, hash: variant), "\(variant)")
            }
        }
    }

    @Test func passwordsAreCutAt72Bytes() {
        let long = String(repeating: "p", count: 72)
        let hash = BCrypt.hash(long, cost: 4)
        #expect(BCrypt.verify(long + "ignored", hash: hash))
        #expect(!BCrypt.verify(String(long.dropLast()), hash: hash))
    }

    @Test func utf8PasswordsRoundTrip() {
        let hash = BCrypt.hash("pässwörd ☃", cost: 5)
        #expect(hash.hasPrefix("$2b$05$") && hash.utf8.count == 60)
        #expect(BCrypt.verify("pässwörd ☃", hash: hash))
        #expect(!BCrypt.verify("passwörd ☃", hash: hash))
    }

    @Test func malformedHashesNeverVerify() {
        let good = "$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe"
        #expect(BCrypt.cost(of: good) == 6)
        for bad in [
            "", "a", "$2a$06$", String(good.dropLast()), good + "x",
            "$2x$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe",  // unknown variant
            "$2a$03$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe",  // cost too low
            "$2a$32$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe",  // cost too high
            "$2a$06$m0CrhHm10qJ3lXRY!5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe",  // not radix-64
            "$1$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe9",
        ] {
            #expect(BCrypt.cost(of: bad) == nil, "\(bad)")
            #expect(!BCrypt.verify("a", hash: bad), "\(bad)")
        }
    }

    @Test func constantTimeComparisonLooksAtEveryByte() {
        #expect(BCrypt.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!BCrypt.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!BCrypt.constantTimeEquals([9, 2, 3], [1, 2, 3]))
        #expect(!BCrypt.constantTimeEquals([1, 2], [1, 2, 3]))
    }

    @Test func radix64RoundTrips() throws {
        let bytes: [UInt8] = (0..<23).map { UInt8($0 * 11 % 256) }
        let text = Radix64.encode(bytes)
        #expect(text.count == 31)
        #expect(Radix64.decode(ArraySlice(text.utf8), count: 23) == bytes)
    }

    @Test func blowfishTableIsPi() {
        // pi = 3.243F6A8885A308D3... in hexadecimal: the P-array starts with its first fractional digits
        #expect(BlowfishPi.p.count == 18 && BlowfishPi.s.count == 1024)
        #expect(BlowfishPi.p[0] == 0x243F_6A88 && BlowfishPi.p[1] == 0x85A3_08D3)
    }
}
