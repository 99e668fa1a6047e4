// socketio-cli: the wscat of Socket.IO, on the SocketIOClient module.
//
//   socketio-cli URL [--namespace /x] [--auth JSON] [--query k=v]... [--header k=v]...
//                [--transports polling,websocket] [--path /socket.io/] [--emit EVENT JSON-ARRAY]... [--ack]
//                [--listen EVENT]... [--count N] [--timeout SECONDS] [--stdin] [--reconnect] [--insecure | --ca-file PEM]
//                [--reply JSON-ARRAY] [--retries N] [--ack-timeout MS] [--reconnection-delay MS]
//                [--reconnection-delay-max MS] [--randomization-factor F] [--verbose]
//
// Prints each received event as one JSON line {"event":…,"args":[…]}, each acknowledgement (with --ack) as
// {"ack":EVENT,"args":[…]}; exits 0 after --count events (after the emits and their acks with --count 0) or at
// the timeout, 1 with a message on standard error when the connection is refused or fails.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import SocketIOClient

let usage = """
    usage: socketio-cli URL [--namespace /x] [--auth JSON] [--query k=v]... [--header k=v]...
                        [--transports polling,websocket] [--path /socket.io/] [--emit EVENT JSON-ARRAY]... [--ack]
                        [--listen EVENT]... [--count N] [--timeout SECONDS] [--stdin] [--reconnect] [--insecure | --ca-file PEM]
                        [--reply JSON-ARRAY] [--retries N] [--ack-timeout MS] [--reconnection-delay MS]
                        [--reconnection-delay-max MS] [--randomization-factor F] [--verbose]
      --reply answers the server's acknowledgement requests; --verbose prints the Manager's events and the
      socket's connections ({"socket":"connect","id":…,"recovered":…}, {"socket":"disconnect","reason":…}) as JSON
      lines on standard error; --stdin reads further emits as lines `EVENT [JSON-ARRAY]`, and the lines
      `:disconnect` and `:connect` (socket.disconnect() and socket.open()); --ca-file trusts the
      certificates of a PEM file (instead of the system's) for https/wss; --insecure trusts any.
      Binary arguments are written {"$binary":"<base64>"} in JSON-ARRAY and printed the same way.
    """

struct Arguments {
    var url = ""
    var namespace: String?
    var auth: JSONObject?
    var query: [String: String] = [:]
    var headers: [String: String] = [:]
    var transports: [EngineTransport] = [.polling, .websocket]
    var path = "/socket.io/"
    var emits: [(event: String, arguments: [JSONValue])] = []
    var ack = false
    var listen: Set<String> = []
    var count: Int?
    var timeout = 10.0
    var stdin = false
    var reconnect = false
    var insecure = false
    var caFile: String?
    var reply: [JSONValue]?
    var retries = 0
    var ackTimeout: Double?
    var reconnectionDelay: Int?
    var reconnectionDelayMax: Int?
    var randomizationFactor: Double?
    var verbose = false
}

func fail(_ message: String, code: Int32 = 2) -> Never {
    FileHandle.standardError.write(Data(("socketio-cli: " + message + "\n").utf8))
    exit(code)
}

/// `{"$binary":"<base64>"}` becomes a binary value, anywhere in the value.
func decodeBinaries(_ value: JSONValue) -> JSONValue {
    switch value {
    case .object(let object):
        if object.count == 1, let base64 = object["$binary"]?.stringValue, let data = Data(base64Encoded: base64) {
            return .binary(bytes: data)
        }
        return .object(JSONObject(object.map { ($0.key, decodeBinaries($0.value)) }))
    case .array(let array):
        return .array(array.map(decodeBinaries))
    default:
        return value
    }
}

/// Binary values are printed as `{"$binary":"<base64>"}`.
func encodeBinaries(_ value: JSONValue) -> JSONValue {
    switch value {
    case .binary(let buffer):
        return ["$binary": .string(Data(buffer.readableBytesView).base64EncodedString())]
    case .object(let object):
        return .object(JSONObject(object.map { ($0.key, encodeBinaries($0.value)) }))
    case .array(let array):
        return .array(array.map(encodeBinaries))
    default:
        return value
    }
}

func parseJSONArray(_ text: String, what: String) -> [JSONValue] {
    guard let value = try? JSONValue(parsing: text) else { fail("\(what) is not JSON: \(text)") }
    guard case .array(let array) = value else { fail("\(what) must be a JSON array: \(text)") }
    return array.map(decodeBinaries)
}

func parseArguments() -> Arguments {
    var result = Arguments()
    var arguments = Array(CommandLine.arguments.dropFirst())[...]
    func value(for option: String) -> String {
        guard let value = arguments.popFirst() else { fail("\(option) needs a value\n\(usage)") }
        return value
    }
    func keyValue(for option: String) -> (String, String) {
        let text = value(for: option)
        guard let equals = text.firstIndex(of: "=") else { fail("\(option) wants key=value, got \(text)") }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }
    while let argument = arguments.popFirst() {
        switch argument {
        case "-h", "--help":
            print(usage)
            exit(0)
        case "--namespace", "-n":
            result.namespace = value(for: argument)
        case "--auth":
            let text = value(for: argument)
            guard case .object(let object)? = try? JSONValue(parsing: text) else { fail("--auth must be a JSON object") }
            result.auth = object
        case "--query", "-q":
            let (key, value) = keyValue(for: argument)
            result.query[key] = value
        case "--header", "-H":
            let (key, value) = keyValue(for: argument)
            result.headers[key] = value
        case "--transports", "-t":
            result.transports = value(for: argument).split(separator: ",").map {
                guard let transport = EngineTransport(rawValue: String($0)) else { fail("unknown transport \($0)") }
                return transport
            }
        case "--path":
            result.path = value(for: argument)
        case "--emit", "-e":
            let event = value(for: argument)
            let json = arguments.first.map { $0.hasPrefix("[") } == true ? value(for: argument) : "[]"
            result.emits.append((event, parseJSONArray(json, what: "--emit \(event)")))
        case "--ack":
            result.ack = true
        case "--listen", "-l":
            result.listen.insert(value(for: argument))
        case "--count", "-c":
            guard let count = Int(value(for: argument)), count >= 0 else { fail("--count wants a number") }
            result.count = count
        case "--timeout":
            guard let timeout = Double(value(for: argument)), timeout > 0 else { fail("--timeout wants seconds") }
            result.timeout = timeout
        case "--stdin":
            result.stdin = true
        case "--reconnect":
            result.reconnect = true
        case "--insecure", "-k":
            result.insecure = true
        case "--ca-file":
            result.caFile = value(for: argument)
        case "--reply":
            result.reply = parseJSONArray(value(for: argument), what: "--reply")
        case "--retries":
            guard let retries = Int(value(for: argument)), retries >= 0 else { fail("--retries wants a number") }
            result.retries = retries
        case "--ack-timeout":
            guard let milliseconds = Double(value(for: argument)), milliseconds > 0 else { fail("--ack-timeout wants milliseconds") }
            result.ackTimeout = milliseconds
        case "--reconnection-delay":
            guard let milliseconds = Int(value(for: argument)), milliseconds >= 0 else { fail("--reconnection-delay wants milliseconds") }
            result.reconnectionDelay = milliseconds
        case "--reconnection-delay-max":
            guard let milliseconds = Int(value(for: argument)), milliseconds >= 0 else { fail("--reconnection-delay-max wants milliseconds") }
            result.reconnectionDelayMax = milliseconds
        case "--randomization-factor":
            guard let factor = Double(value(for: argument)), (0...1).contains(factor) else { fail("--randomization-factor wants 0...1") }
            result.randomizationFactor = factor
        case "--verbose", "-v":
            result.verbose = true
        default:
            if argument.hasPrefix("-") || !result.url.isEmpty { fail("unexpected argument \(argument)\n\(usage)") }
            result.url = argument
        }
    }
    if result.url.isEmpty { fail(usage) }
    return result
}

/// Writes whole lines to standard output, one writer at a time.
let outputLock = NIOLock()
func printLine(_ value: JSONValue) {
    var line = value.jsonString()
    line.append("\n")
    outputLock.withLock {
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}

/// Ends the process once: the first call wins.
let finished = NIOLockedValueBox(false)
func finish(_ code: Int32) {
    let first = finished.withLockedValue { done -> Bool in
        defer { done = true }
        return !done
    }
    guard first else { return }
    outputLock.withLock { exit(code) }
}

let arguments = parseArguments()
var options = SocketOptions()
options.transports = arguments.transports
options.query = arguments.query
options.extraHeaders = arguments.headers
options.path = arguments.path
options.reconnection = arguments.reconnect
options.timeout = .milliseconds(Int64(arguments.timeout * 1000))
if let auth = arguments.auth { options.auth = .value(auth) }
if arguments.insecure {
    var tls = ClientTLSConfiguration.makeClientConfiguration()
    tls.certificateVerification = .none
    options.tlsConfiguration = tls
} else if let caFile = arguments.caFile {
    var tls = ClientTLSConfiguration.makeClientConfiguration()
    do {
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
    } catch {
        fail("--ca-file: \(error)")
    }
    options.tlsConfiguration = tls
}
options.autoConnect = false
options.retries = arguments.retries
options.ackTimeout = arguments.ackTimeout.map { .milliseconds(Int64($0)) }
if let delay = arguments.reconnectionDelay { options.reconnectionDelay = .milliseconds(Int64(delay)) }
if let delay = arguments.reconnectionDelayMax { options.reconnectionDelayMax = .milliseconds(Int64(delay)) }
if let factor = arguments.randomizationFactor { options.randomizationFactor = factor }

let manager: Manager
do {
    manager = try Manager(url: arguments.url, options: options)
} catch {
    fail("\(error)")
}
let namespace = arguments.namespace ?? (try? EngineClientConfiguration.parse(url: arguments.url).urlPath) ?? "/"
let socket = manager.socket(namespace)

if arguments.verbose {
    manager.onEvent { event in
        let line: JSONValue
        switch event {
        case .open: line = ["manager": "open"]
        case .close(let reason): line = ["manager": "close", "reason": .string(reason)]
        case .upgrade(let transport): line = ["manager": "upgrade", "transport": .string(transport.rawValue)]
        case .error(let error): line = ["manager": "error", "message": .string(error.message)]
        case .reconnectScheduled(let attempt, let delay):
            line = ["manager": "reconnect_scheduled", "attempt": .int(attempt), "delay": .int(delay)]
        case .reconnectAttempt(let attempt): line = ["manager": "reconnect_attempt", "attempt": .int(attempt)]
        case .reconnect(let attempts): line = ["manager": "reconnect", "attempts": .int(attempts)]
        case .reconnectError(let error): line = ["manager": "reconnect_error", "message": .string(error.message)]
        case .reconnectFailed: line = ["manager": "reconnect_failed"]
        }
        FileHandle.standardError.write(Data((line.jsonString() + "\n").utf8))
    }
    socket.onConnect {
        let line: JSONValue = ["socket": "connect", "id": .string(socket.id ?? ""), "recovered": .bool(socket.recovered)]
        FileHandle.standardError.write(Data((line.jsonString() + "\n").utf8))
    }
    socket.onDisconnect { reason in
        let line: JSONValue = ["socket": "disconnect", "reason": .string(reason)]
        FileHandle.standardError.write(Data((line.jsonString() + "\n").utf8))
    }
}

if let reply = arguments.reply {
    // Events the server emits with an acknowledgement are answered with --reply.
    socket.onAny { _, _, ack in ack?.send(reply) }
}

struct Progress {
    var events = 0
    var emitsDone = false
    var connectedOnce = false
}
let progress = NIOLockedValueBox(Progress())

func checkDone() {
    guard let count = arguments.count else { return }
    let done = progress.withLockedValue { $0.emitsDone && $0.events >= count }
    if done { finish(0) }
}

socket.onAny { event, args in
    guard arguments.listen.isEmpty || arguments.listen.contains(event) else { return }
    // Listeners run one at a time on the event loop: count only once the line is out, so that the emitting
    // task's checkDone cannot exit before it is written.
    if let count = arguments.count, progress.withLockedValue({ $0.events >= count }) { return }
    printLine(["event": .string(event), "args": .array(args.map(encodeBinaries))])
    progress.withLockedValue { $0.events += 1 }
    checkDone()
}

socket.onConnectError { error in
    // The first connection's outcome is what `try await socket.connect()` below throws.
    guard arguments.reconnect || progress.withLockedValue({ $0.connectedOnce }) else { return }
    let data = error.data.map { " " + $0.jsonString() } ?? ""
    if arguments.reconnect && socket.active {
        // A failed attempt: the Manager tries again.
        FileHandle.standardError.write(Data("socketio-cli: connect_error: \(error.message)\(data)\n".utf8))
    } else {
        fail("connect_error: \(error.message)\(data)", code: 1)
    }
}

socket.onDisconnect { reason in
    guard !arguments.reconnect else { return }
    if reason == "io server disconnect" || reason == "io client disconnect" {
        FileHandle.standardError.write(Data("socketio-cli: disconnected: \(reason)\n".utf8))
        finish(0)
    } else {
        fail("disconnected: \(reason)", code: 1)
    }
}

socket.onConnect {
    let first = progress.withLockedValue { progress -> Bool in
        defer { progress.connectedOnce = true }
        return !progress.connectedOnce
    }
    guard first else { return }
    Task {
        for emit in arguments.emits {
            if arguments.ack {
                do {
                    let answer = try await socket.timeout(.milliseconds(Int64(arguments.ackTimeout ?? arguments.timeout * 1000)))
                        .emitWithAck(emit.event, arguments: emit.arguments)
                    printLine(["ack": .string(emit.event), "args": .array(answer.map(encodeBinaries))])
                } catch {
                    fail("no acknowledgement for \(emit.event): \(error)", code: 1)
                }
            } else {
                socket.emit(emit.event, arguments: emit.arguments)
            }
        }
        progress.withLockedValue { $0.emitsDone = true }
        checkDone()
    }
}

if arguments.stdin {
    Thread.detachNewThread {
        // Each line: EVENT [JSON-ARRAY]
        while let line = readLine() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { continue }
            switch trimmed {
            case ":disconnect":
                socket.disconnect()
                continue
            case ":connect":
                socket.open()
                continue
            default:
                break
            }
            let parts = trimmed.split(separator: " ", maxSplits: 1)
            let event = String(parts[0])
            let json = parts.count > 1 ? String(parts[1]) : "[]"
            guard let value = try? JSONValue(parsing: json), case .array(let array) = value else {
                FileHandle.standardError.write(Data("socketio-cli: not a JSON array: \(json)\n".utf8))
                continue
            }
            if arguments.ack {
                socket.timeout(.milliseconds(Int64(arguments.ackTimeout ?? arguments.timeout * 1000))).emit(event, arguments: array.map(decodeBinaries)) { result in
                    switch result {
                    case .success(let answer): printLine(["ack": .string(event), "args": .array(answer.map(encodeBinaries))])
                    case .failure(let error): FileHandle.standardError.write(Data("socketio-cli: \(event): \(error)\n".utf8))
                    }
                }
            } else {
                socket.emit(event, arguments: array.map(decodeBinaries))
            }
        }
    }
}

if arguments.reconnect {
    socket.open()
} else {
    do {
        try await socket.connect()
    } catch let error as SocketClientError {
        let data = error.data.map { " " + $0.jsonString() } ?? ""
        fail("connect_error: \(error.message)\(data) (thrown by connect())", code: 1)
    } catch {
        fail("connect: \(error)", code: 1)
    }
}
try await Task.sleep(for: .milliseconds(Int64(arguments.timeout * 1000)))
finish(0)
