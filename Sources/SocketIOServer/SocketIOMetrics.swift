import Metrics

/// The Socket.IO layer's swift-metrics instruments: `socketio_broadcasts_total`,
/// `socketio_broadcast_recipients_total` (fan-out), `socketio_volatile_dropped_total`,
/// `socketio_sockets` (connected sockets, all namespaces), `socketio_rejected_total{stage}`,
/// `socketio_recovered_total` (sockets given back by connection state recovery),
/// `socketio_flow_paused_total` (times a publisher was held back for a congested recipient),
/// `socketio_flow_stalled_total` (recipients cut for taking nothing within flow control's stallTimeout).
enum SocketIOMetrics {
    static let broadcasts = Counter(label: "socketio_broadcasts_total")
    static let recipients = Counter(label: "socketio_broadcast_recipients_total")
    static let volatileDropped = Counter(label: "socketio_volatile_dropped_total")
    static let sockets = Meter(label: "socketio_sockets")
    static let rejectedConnections = Counter(label: "socketio_rejected_total", dimensions: [("stage", "connect")])
    static let rejectedEvents = Counter(label: "socketio_rejected_total", dimensions: [("stage", "event")])
    static let recoveredSockets = Counter(label: "socketio_recovered_total")
    static let publishersPaused = Counter(label: "socketio_flow_paused_total")
    static let stalledRecipients = Counter(label: "socketio_flow_stalled_total")
}
