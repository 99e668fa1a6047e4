import EngineIOCore
import Metrics

/// The server's swift-metrics instruments, created once (labels and dimensions are bounded).
///
/// Names: `engineio_connections{transport}` (meter), `engineio_packets_in_total`,
/// `engineio_packets_out_total`, `engineio_bytes_in_total`, `engineio_bytes_out_total`,
/// `engineio_disconnects_total{reason}`, `engineio_errors_total{kind}`.
enum EngineMetrics {
    static let pollingConnections = Meter(label: "engineio_connections", dimensions: [("transport", "polling")])
    static let webSocketConnections = Meter(label: "engineio_connections", dimensions: [("transport", "websocket")])
    static let packetsIn = Counter(label: "engineio_packets_in_total")
    static let packetsOut = Counter(label: "engineio_packets_out_total")
    static let bytesIn = Counter(label: "engineio_bytes_in_total")
    static let bytesOut = Counter(label: "engineio_bytes_out_total")

    private static let disconnectCounters: [String: Counter] = {
        let reasons: [EngineCloseReason] = [
            .transportClose, .transportError, .pingTimeout, .forcedClose, .parseError, .serverShuttingDown, .sendBufferFull,
        ]
        return Dictionary(uniqueKeysWithValues: reasons.map { ($0.name, Counter(label: "engineio_disconnects_total", dimensions: [("reason", $0.name)])) })
    }()

    private static let errorCounters: [String: Counter] = {
        let kinds = ["http_400", "http_403", "http_413", "parse", "websocket"]
        return Dictionary(uniqueKeysWithValues: kinds.map { ($0, Counter(label: "engineio_errors_total", dimensions: [("kind", $0)])) })
    }()

    static func connections(_ transport: EngineTransport) -> Meter {
        transport == .websocket ? webSocketConnections : pollingConnections
    }

    static func disconnected(_ reason: EngineCloseReason) {
        disconnectCounters[reason.name]?.increment()
    }

    /// Counts an error of a bounded `kind` (`http_400`, `http_403`, `http_413`, `parse`, `websocket`).
    static func error(_ kind: String) {
        errorCounters[kind]?.increment()
    }
}

