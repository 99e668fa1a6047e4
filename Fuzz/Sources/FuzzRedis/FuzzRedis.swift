// libFuzzer target: the decoders of the Redis adapter, `RESPParser` (RESP2/RESP3 replies and pushes) and
// `MessagePack.decode` (the adapter's wire format, notepack.io-compatible).
//
// Input: one flag byte, then the rest. Flag bit 0: small parser limits (lines 16, bulk 64, 8 elements, depth 4),
// so that every limit is reached; bits 4-7: the drip-feed chunk size for the incremental check (1 << n bytes, at least 1/64 of the input).
//
// Invariants:
// - RESP is incremental: the same bytes parsed at once and drip-fed in chunks give the same values and fail at the
//   same value; `next` returning nil consumes nothing.
// - Every parsed RESP value, written back in RESP (by the small writer below, and by `RedisCommand.write` for arrays
//   of bulk strings), parses to the same value.
// - What `MessagePack.decode` accepts re-encodes to bytes that decode to an equal value, and that encoding is stable;
//   `decode(_:)` and `decode(from:)` agree.
import FuzzDriver
import NIOCore
import SocketIOCore
import SocketIORedis

@inline(never)
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant violated: \(message())") }
}

// MARK: RESP

/// Equality where NaN equals NaN (RESP3 `,nan`).
func same(_ a: RESPValue, _ b: RESPValue) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
    case (.array(let x?), .array(let y?)): return x.count == y.count && zip(x, y).allSatisfy(same)
    default: return a == b
    }
}

func same(_ a: [RESPValue], _ b: [RESPValue]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy(same)
}

/// Writes a value in RESP (RESP3 for doubles and booleans).
func writeRESP(_ value: RESPValue, into out: inout ByteBuffer) {
    func blob(_ marker: String, _ bytes: ByteBuffer) {
        out.writeString("\(marker)\(bytes.readableBytes)\r\n")
        out.writeImmutableBuffer(bytes)
        out.writeString("\r\n")
    }
    switch value {
    case .simpleString(let text): out.writeString("+\(text)\r\n")  // a parsed line holds no CR
    case .error(let text): blob("!", ByteBuffer(string: text))  // blob errors may hold CR LF
    case .integer(let number): out.writeString(":\(number)\r\n")
    case .bulkString(nil): out.writeString("$-1\r\n")
    case .bulkString(let bytes?): blob("$", bytes)
    case .array(nil): out.writeString("*-1\r\n")
    case .array(let elements?):
        out.writeString("*\(elements.count)\r\n")
        for element in elements { writeRESP(element, into: &out) }
    case .double(let number): out.writeString(",\(number.isNaN ? "nan" : "\(number)")\r\n")
    case .boolean(let flag): out.writeString(flag ? "#t\r\n" : "#f\r\n")
    }
}

struct Parsed {
    var values: [RESPValue] = []
    var failed = false
}

func parseAll(_ input: ByteBuffer, parser: RESPParser, chunk: Int) -> Parsed {
    var result = Parsed()
    var buffer = ByteBuffer()
    var source = input
    repeat {
        var piece = source.readSlice(length: min(chunk, source.readableBytes))!
        buffer.writeBuffer(&piece)
        do {
            while true {
                let before = buffer
                guard let value = try parser.next(&buffer) else {
                    require(buffer == before && buffer.readerIndex == before.readerIndex, "nil consumed bytes")
                    break
                }
                result.values.append(value)
            }
        } catch {
            _ = "\(error)"
            result.failed = true
            return result
        }
    } while source.readableBytes > 0
    return result
}

func checkRESP(_ input: ByteBuffer, small: Bool, chunk: Int) {
    let limits = small
        ? RESPParser.Limits(maxBulkLength: 64, maxElements: 8, maxDepth: 4, maxLineLength: 16)
        : RESPParser.Limits()
    let parser = RESPParser(limits: limits)
    let whole = parseAll(input, parser: parser, chunk: Int.max)
    let dripped = parseAll(input, parser: parser, chunk: chunk)
    require(same(whole.values, dripped.values), "drip-fed values differ: \(whole.values) vs \(dripped.values)")
    require(whole.failed == dripped.failed, "drip-fed failure differs: \(whole.failed) vs \(dripped.failed)")

    // Written back, each value reads the same (with default limits: the writer may use longer lines).
    let roomy = RESPParser()
    for value in whole.values {
        var written = ByteBuffer()
        writeRESP(value, into: &written)
        var copy = written
        do {
            let again = try roomy.next(&copy)
            require(again.map { same($0, value) } ?? false, "RESP round trip: \(value) -> \(String(buffer: written)) -> \(String(describing: again))")
            require(copy.readableBytes == 0, "RESP round trip left \(copy.readableBytes) bytes")
        } catch {
            require(false, "RESP round trip of \(value) failed: \(error)")
        }
        if case .array(let elements?) = value {
            let arguments = elements.compactMap { element -> ByteBuffer? in
                if case .bulkString(let bytes?) = element { return bytes }
                return nil
            }
            if arguments.count == elements.count {
                var command = ByteBuffer()
                RedisCommand(arguments: arguments).write(into: &command)
                let again = try? roomy.next(&command)
                require(again.map { same($0, value) } ?? false, "RedisCommand round trip of \(value)")
            }
        }
        _ = value.string
        _ = value.int
        _ = value.bytes
    }
}

// MARK: MessagePack

func checkMessagePack(_ input: ByteBuffer) {
    let whole = try? MessagePack.decode(input)
    var stream = input
    let front = try? MessagePack.decode(from: &stream)
    if let whole {
        require(front == whole && stream.readableBytes == 0, "decode(from:) disagrees with decode(_:)")
    } else if let front {
        require(stream.readableBytes > 0, "decode(from:) took all the bytes that decode(_:) refused: \(front)")
    }
    guard let value = whole else { return }
    let encoded = MessagePack.encode(value)
    let again: JSONValue
    do {
        again = try MessagePack.decode(encoded)
    } catch {
        return require(false, "re-encoded MessagePack does not decode (\(error)): \(value)")
    }
    require(again == value, "MessagePack round trip: \(value) -> \(again)")
    require(MessagePack.encode(again) == encoded, "MessagePack encoding is not stable: \(value)")
    var appended = ByteBuffer(bytes: [0xC0])
    MessagePack.encode(value, into: &appended)
    require(appended.getSlice(at: 1, length: appended.readableBytes - 1) == encoded, "encode(into:) differs")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let flags = start.load(as: UInt8.self)
    var input = ByteBuffer(bytes: UnsafeRawBufferPointer(start: start, count: count))
    input.moveReaderIndex(forwardBy: 1)  // the decoders must work from a reader index past 0
    // At most ~64 chunks: the parser starts a value over on every call, so finer drips are quadratic by design.
    checkRESP(input, small: flags & 1 != 0, chunk: max(1 << Int(flags >> 4), input.readableBytes / 64))
    checkMessagePack(input)
    return 0
}

/// The entry point SwiftPM links as `main`: runs libFuzzer's driver on ``fuzz(_:_:)``.
@_cdecl("FuzzRedis_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        fuzz(data.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(bitPattern: 1)!, size)
    }
}
