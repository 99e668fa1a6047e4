import Metrics

/// The Socket.IO layer's swift-metrics instruments: `socketio_broadcasts_total`,
/// `socketio_broadcast_recipients_total` (fan-out), `socketio_volatile_dropped_total`,
/// `socketio_sockets` (connected sockets, all namespaces), `socketio_rejected_total{stage}`.
enum SocketIOMetrics {
    static let broadcasts = Counter(label: "socketio_broadcasts_total")
    static let recipients = Counter(label: "socketio_broadcast_recipients_total")
    static let volatileDropped = Counter(label: "socketio_volatile_dropped_total")
    static let sockets = Meter(label: "socketio_sockets")
    static let rejectedConnections = Counter(label: "socketio_rejected_total", dimensions: [("stage", "connect")])
    static let rejectedEvents = Counter(label: "socketio_rejected_total", dimensions: [("stage", "event")])
}
