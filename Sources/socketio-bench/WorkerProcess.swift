import Foundation

/// A worker process of this executable, driven over its stdin/stdout.
final class WorkerProcess: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()
    /// The clients the worker connected (from its `ready` line).
    var clients = 0

    init(arguments: [String]) throws {
        self.process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        self.process.arguments = ["worker"] + arguments
        self.process.standardInput = self.input
        self.process.standardOutput = self.output
        try self.process.run()
    }

    func send(_ command: String) {
        self.input.fileHandleForWriting.write(Data((command + "\n").utf8))
    }

    /// The next line the worker prints (blocking).
    func readLine() -> String? {
        while true {
            if let newline = self.buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: self.buffer[self.buffer.startIndex..<newline], as: UTF8.self)
                self.buffer.removeSubrange(self.buffer.startIndex...newline)
                return line
            }
            let chunk = self.output.fileHandleForReading.availableData
            if chunk.isEmpty { return nil }
            self.buffer.append(chunk)
        }
    }

    func report() throws -> WorkerReport {
        self.send("report")
        guard let line = self.readLine() else { throw BenchError("worker exited") }
        return try JSONDecoder().decode(WorkerReport.self, from: Data(line.utf8))
    }

    /// Blocks until the worker has seen `count` deliveries since the last reset (or gave up waiting).
    func waitForDeliveries(_ count: Int) {
        self.send("wait \(count)")
        _ = self.readLine()
    }

    func quit() {
        self.send("quit")
        self.process.waitUntilExit()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
