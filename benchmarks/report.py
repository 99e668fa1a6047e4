"""Turns the JSON lines of scripts/bench into docs/benchmarks.md and its plots (medians of repeats)."""
import argparse
import json
import os
import platform
import statistics
import subprocess
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("results")
parser.add_argument("--out", default="docs")
parser.add_argument("--mounts", help="the results of a MOUNTS=only run (our server and the framework mounts), "
                    "compared in a section of their own")
args = parser.parse_args()


def load(path):
    """The rows of a results file by (scenario, label, clients, in flight, rooms), in run order."""
    loaded = defaultdict(list)
    for line in open(path):
        if line.startswith("{"):
            row = json.loads(line)
            loaded[(row["scenario"], row["label"], row.get("clients"), row.get("in_flight"), row.get("rooms"))].append(row)
    return loaded


groups = load(args.results)


def median(key, field, source=None):
    values = [r[field] for r in (groups if source is None else source).get(key, []) if field in r]
    return statistics.median(values) if values else None


def fmt(value, digits=1):
    if value is None:
        return "–"
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}"


# the client counts of the main broadcast runs (the kept-packet runs with 10 clients have no bare loop)
counts = sorted({k[2] for k in groups if k[0] == "broadcast" and k[1] == "bare"})
# our server mounted on a framework's application (MOUNTS=1 scripts/bench), when the results have them
mount_labels = [label for label in ("swift-hummingbird", "swift-vapor") if any(k[1] == label for k in groups)]
labels = ["swift", "bare", "python"] + mount_labels
# a MOUNTS=only run: our server and the mounts side by side, in their own section
mount_groups = load(args.mounts) if args.mounts else (groups if mount_labels else None)
lines = ["# Benchmarks", ""]
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
lines += [
    f"Machine: {cpu or platform.processor()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}.",
    "Servers pinned to core 0, the load generator (`socketio-bench`) to core 1 (`taskset`). Medians of interleaved",
    "repeats. `swift` is this project's server with the full interop fixture (`socketio-conformance-server --quiet`,",
    "release build: 32 handlers per socket registered in the connection handler, `onAny`, a per-packet",
    "`use` middleware, `onError`, flow control on: the headline), `swift-bench` the same server with only the four",
    "benchmark events (`--bench`), `swift-recovery` the full fixture with connection state recovery on",
    "(`--connection-state-recovery 120000`), `bare` the bare SwiftNIO WebSocket loop (no Socket.IO semantics, one",
    "prebuilt frame per delivery), `python` the python-socketio server in aiohttp mode",
    "(`benchmarks/python_server.py`, the four benchmark events). No Node.js Socket.IO server can be installed here",
    "(no npm registry), so Node.js is not measured. `swift-before`, where present, is the full fixture built from",
    "the code before the changes in `benchmarks-notes.md` (same run, interleaved).",
    *(["`swift-hummingbird` and `swift-vapor` are `swift` mounted on a Hummingbird 2 / Vapor 4 application",
       "(`--mount`, see docs/framework-mounts.md)."] if mount_labels else []),
    "Reproduce: `scripts/bench`.",
    "",
    "## Broadcast (one sender, N receivers)",
    "",
    "| clients | in flight | server | deliveries/s | p50 µs | p99 µs | p99.9 µs | server CPU µs/delivery | swift/python msgs/s | swift CPU / bare CPU |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
for clients in counts:
    for in_flight in (1, 16):
        for label in labels:
            key = ("broadcast", label, clients, in_flight, 0)
            if key not in groups:
                continue
            extra = ["", ""]
            if label == "swift":
                extra = [
                    ratio(median(key, "deliveries_per_s"), median(("broadcast", "python", clients, in_flight, 0), "deliveries_per_s")),
                    ratio(median(key, "server_cpu_us_per_delivery"), median(("broadcast", "bare", clients, in_flight, 0), "server_cpu_us_per_delivery")),
                ]
            lines.append(
                f"| {clients} | {in_flight} | {label} | {fmt(median(key, 'deliveries_per_s'))} | {fmt(median(key, 'p50_us'))} | "
                f"{fmt(median(key, 'p99_us'))} | {fmt(median(key, 'p999_us'))} | {fmt(median(key, 'server_cpu_us_per_delivery'), 2)} | "
                + " | ".join(extra) + " |"
            )

lines += ["", "## Echo with acks (100 clients)", "", "| server | round trips/s | p50 µs | p99 µs | server CPU µs/round trip | CPU / bare CPU |", "|---|---|---|---|---|---|"]
bare_echo_cpu = median(("echo", "bare", 100, None, None), "server_cpu_us_per_round_trip")
for label in ["swift", "swift-before", "swift-bench", "bare", "python"]:
    key = ("echo", label, 100, None, None)
    if key in groups:
        cpu_trip = median(key, "server_cpu_us_per_round_trip")
        lines.append(
            f"| {label} | {fmt(median(key, 'round_trips_per_s'))} | {fmt(median(key, 'p50_us'))} | {fmt(median(key, 'p99_us'))} | "
            f"{fmt(cpu_trip, 2)} | {ratio(cpu_trip, bare_echo_cpu) if label != 'bare' else ''} |"
        )

lines += ["", "## Rooms (1000 clients in 10 rooms, each broadcast to one room)", "", "| server | deliveries/s | p50 µs | p99 µs | server CPU µs/delivery |", "|---|---|---|---|---|"]
for label in labels:
    key = ("rooms", label, 1000, 1, 10)
    if key in groups:
        lines.append(f"| {label} | {fmt(median(key, 'deliveries_per_s'))} | {fmt(median(key, 'p50_us'))} | {fmt(median(key, 'p99_us'))} | {fmt(median(key, 'server_cpu_us_per_delivery'), 2)} |")

# Connection state recovery: the same broadcasts with recovery on, next to the runs with it off.
recovery_counts = sorted({k[2] for k in groups if k[0] == "broadcast" and k[1] == "swift-recovery" and k[2] in counts})
recovery_ratios = {}
if recovery_counts:
    lines += [
        "",
        "## Connection state recovery (full fixture, recovery on against off)",
        "",
        "Every broadcast gets an offset (its last argument) and is kept, encoded once, for the recovery window.",
        "",
        "| clients | in flight | recovery | deliveries/s | p50 µs | p99 µs | server CPU µs/delivery | on / off CPU |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for clients in recovery_counts:
        for in_flight in (1, 16):
            off = median(("broadcast", "swift", clients, in_flight, 0), "server_cpu_us_per_delivery")
            on = median(("broadcast", "swift-recovery", clients, in_flight, 0), "server_cpu_us_per_delivery")
            if off and on:
                recovery_ratios[(clients, in_flight)] = (on, off)
            for label, name in (("swift", "off"), ("swift-recovery", "on")):
                key = ("broadcast", label, clients, in_flight, 0)
                if key in groups:
                    lines.append(
                        f"| {clients} | {in_flight} | {name} | {fmt(median(key, 'deliveries_per_s'))} | {fmt(median(key, 'p50_us'))} | "
                        f"{fmt(median(key, 'p99_us'))} | {fmt(median(key, 'server_cpu_us_per_delivery'), 2)} | {ratio(on, off) if label == 'swift-recovery' else ''} |"
                    )


def growth(label):
    values = [r["rss_after"] - r["rss_before"] for r in groups.get(("broadcast", label, 10, 16, 0), []) if "rss_after" in r]
    sent = [r["broadcasts_sent"] for r in groups.get(("broadcast", label, 10, 16, 0), []) if "broadcasts_sent" in r]
    return (statistics.median(values), statistics.median(sent)) if values and sent else (None, None)


kept_off, _ = growth("swift")
kept_on, kept_sent = growth("swift-recovery")
per_kept = None
if kept_off is not None and kept_on is not None and kept_sent:
    per_kept = (kept_on - kept_off) / kept_sent
    lines += [
        "",
        f"Memory per kept packet: {kept_sent:,} broadcasts of about 100 bytes to 10 clients; the server's RSS grew by "
        f"{kept_on / 1048576:.1f} MiB with recovery on and {kept_off / 1048576:.1f} MiB with it off (medians), so each kept "
        f"packet costs about **{per_kept:,.0f} bytes** (its encoded text with the offset, the log entry, the allocator's rounding).",
    ]

memory_labels = ["swift", "swift-before", "swift-bench", "bare", "python"]
lines += ["", "## Idle connections (memory)", "", "| clients | server | RSS after (MiB) | bytes per connection | handshakes/s |", "|---|---|---|---|---|"]
connect_counts = sorted({k[2] for k in groups if k[0] == "connect"})
for clients in connect_counts:
    for label in memory_labels:
        key = ("connect", label, clients, None, None)
        if key in groups:
            rss = median(key, "rss_after")
            lines.append(f"| {clients} | {label} | {fmt(rss / 1048576 if rss else None)} | {fmt(median(key, 'bytes_per_connection'))} | {fmt(median(key, 'handshakes_per_s'))} |")

# slope of RSS over connection counts, per server
lines += ["", "Slope of RSS over connections (least squares, bytes per connection):", ""]
slopes = {}
for label in memory_labels:
    points = [(c, median(("connect", label, c, None, None), "rss_after")) for c in connect_counts]
    points = [(c, r) for c, r in points if r]
    if len(points) >= 2:
        mean_x = statistics.mean(c for c, _ in points)
        mean_y = statistics.mean(r for _, r in points)
        slope = sum((c - mean_x) * (r - mean_y) for c, r in points) / sum((c - mean_x) ** 2 for c, _ in points)
        slopes[label] = slope
        lines.append(f"- {label}: {slope:,.0f} B per connection")

# The targets, computed from the medians above.
lines += ["", "## Targets (computed from this run)", "", "| target | figure | met |", "|---|---|---|"]


def verdict(ok):
    return "–" if ok is None else ("yes" if ok else "**no**")


for clients in counts:
    one = median(("broadcast", "swift", clients, 1, 0), "server_cpu_us_per_delivery")
    bare_one = median(("broadcast", "bare", clients, 1, 0), "server_cpu_us_per_delivery")
    burst = median(("broadcast", "swift", clients, 16, 0), "server_cpu_us_per_delivery")
    if one and bare_one:
        lines.append(f"| broadcast CPU/delivery within 1.2x of bare, one at a time, {clients} clients | {one / bare_one:.2f}x ({one:.2f} vs {bare_one:.2f} µs) | {verdict(one / bare_one <= 1.2)} |")
    if burst and bare_one:
        lines.append(f"| broadcast CPU/delivery below bare with 16 in flight, {clients} clients | {burst / bare_one:.2f}x ({burst:.2f} µs) | {verdict(burst < bare_one)} |")
    p99 = median(("broadcast", "swift", clients, 1, 0), "p99_us")
    python_p50 = median(("broadcast", "python", clients, 1, 0), "p50_us")
    if p99 and python_p50:
        lines.append(f"| p99 latency below python-socketio's p50, one at a time, {clients} clients | {p99 / 1000:,.1f} ms vs {python_p50 / 1000:,.1f} ms | {verdict(p99 < python_p50)} |")
echo = median(("echo", "swift", 100, None, None), "server_cpu_us_per_round_trip")
bare_echo = median(("echo", "bare", 100, None, None), "server_cpu_us_per_round_trip")
if echo and bare_echo:
    lines.append(f"| echo CPU/round trip within 1.25x of bare (full fixture) | {echo / bare_echo:.2f}x ({echo:.2f} vs {bare_echo:.2f} µs) | {verdict(echo / bare_echo <= 1.25)} |")
for (clients, in_flight), (on, off) in sorted(recovery_ratios.items()):
    lines.append(
        f"| broadcast CPU/delivery with recovery on within 1.15x of off, {in_flight} in flight, {clients} clients | "
        f"{on / off:.2f}x ({on:.2f} vs {off:.2f} µs) | {verdict(on / off <= 1.15)} |"
    )
if "swift" in slopes and "bare" in slopes:
    lines.append(
        f"| idle memory at most 1.3x bare (RSS slope, full fixture) | {slopes['swift'] / slopes['bare']:.2f}x ({slopes['swift']:,.0f} vs {slopes['bare']:,.0f} B) | "
        f"{verdict(slopes['swift'] / slopes['bare'] <= 1.3)} |"
    )



def mount_section(source, source_name):
    """Our server mounted on Hummingbird and Vapor beside our own listener, from one interleaved run."""
    mounts = [label for label in ("swift-hummingbird", "swift-vapor") if any(k[1] == label for k in source)]
    repeats = len(source.get(("echo", "swift", 100, None, None), []))
    out = [
        "",
        "## Framework mounts (our server on Hummingbird and Vapor)",
        "",
        "`swift-hummingbird` and `swift-vapor` are `swift` (the same fixture, `--bench`) mounted on a Hummingbird 2",
        "/ Vapor 4 application with its own `GET /health` route (`--mount`, see docs/framework-mounts.md): the",
        "connections are the framework's, the Engine.IO and WebSocket handling ours. The three servers run",
        f"interleaved ({repeats} repeats, the order rotated each repeat; `{source_name}`). Ratios are mount /",
        "`swift` of the medians; in brackets the lowest and highest ratio of one repeat's adjacent runs.",
        "",
        "| scenario | clients | server | msgs/s | p99 µs | server CPU µs | CPU / swift | bytes per connection | bytes / swift |",
        "|---|---|---|---|---|---|---|---|---|",
    ]

    def paired(key, ours, field):
        """Per-repeat ratios of a mount's run to ours (the k-th run of each, one repeat apart)."""
        pairs = zip(source.get(key, []), source.get(ours, []))
        return [a[field] / b[field] for a, b in pairs if a.get(field) and b.get(field)]

    def spread(ratios):
        return f" [{min(ratios):.2f}–{max(ratios):.2f}]" if len(ratios) > 1 else ""

    rows_of = []  # (scenario label, key of ours, rate field, cpu field)
    for clients in sorted({k[2] for k in source if k[0] == "broadcast"}):
        for in_flight in (1, 16):
            rows_of.append((f"broadcast, {in_flight} in flight", ("broadcast", "swift", clients, in_flight, 0),
                            "deliveries_per_s", "server_cpu_us_per_delivery"))
    rows_of.append(("echo with acks", ("echo", "swift", 100, None, None), "round_trips_per_s", "server_cpu_us_per_round_trip"))
    for clients in sorted({k[2] for k in source if k[0] == "connect"}):
        rows_of.append(("idle connections", ("connect", "swift", clients, None, None), "handshakes_per_s", None))
    for name, ours, rate, cpu in rows_of:
        for label in ["swift"] + mounts:
            key = (ours[0], label) + ours[2:]
            if key not in source:
                continue
            cpu_value = median(key, cpu, source) if cpu else None
            cpu_ratio = "" if label == "swift" or not cpu else f"{cpu_value / median(ours, cpu, source):.2f}" + spread(paired(key, ours, cpu))
            per_connection = median(key, "bytes_per_connection", source)
            bytes_ratio = ("" if label == "swift" or per_connection is None
                           else f"{per_connection / median(ours, 'bytes_per_connection', source):.2f}"
                           + spread(paired(key, ours, "bytes_per_connection")))
            out.append(
                f"| {name} | {ours[2]} | {label} | {fmt(median(key, rate, source))} | {fmt(median(key, 'p99_us', source))} | "
                f"{fmt(cpu_value, 2)} | {cpu_ratio} | {fmt(per_connection)} | {bytes_ratio} |"
            )
    for label in ["swift"] + mounts:
        slope, ours = rss_slope(source, label), rss_slope(source, "swift")
        if slope and ours:
            out.append(f"| idle connections, RSS slope | all | {label} | | | | | {fmt(slope)} | {'' if label == 'swift' else f'{slope / ours:.2f}'} |")

    out += ["", "| target: a mount costs at most 1.1x our own listener | figure | met |", "|---|---|---|"]
    for label in mounts:
        for clients in sorted({k[2] for k in source if k[0] == "broadcast"}):
            for in_flight in (1, 16):
                ours = ("broadcast", "swift", clients, in_flight, 0)
                theirs = ("broadcast", label, clients, in_flight, 0)
                a, b = median(theirs, "server_cpu_us_per_delivery", source), median(ours, "server_cpu_us_per_delivery", source)
                if a and b:
                    out.append(f"| {label}: broadcast CPU/delivery, {clients} clients, {in_flight} in flight | {a / b:.2f}x ({a:.2f} vs {b:.2f} µs) | {verdict(a / b <= 1.1)} |")
        a = median(("echo", label, 100, None, None), "server_cpu_us_per_round_trip", source)
        b = median(("echo", "swift", 100, None, None), "server_cpu_us_per_round_trip", source)
        if a and b:
            out.append(f"| {label}: echo CPU/round trip | {a / b:.2f}x ({a:.2f} vs {b:.2f} µs) | {verdict(a / b <= 1.1)} |")
        a, b = rss_slope(source, label), rss_slope(source, "swift")
        if a and b:
            out.append(f"| {label}: bytes per idle connection (RSS slope) | {a / b:.2f}x ({a:,.0f} vs {b:,.0f} B) | {verdict(a / b <= 1.1)} |")
    return out


def rss_slope(source, label):
    """Least-squares slope of the median RSS over the connection counts: bytes per connection."""
    points = [(c, median(("connect", label, c, None, None), "rss_after", source)) for c in sorted({k[2] for k in source if k[0] == "connect"})]
    points = [(c, r) for c, r in points if r]
    if len(points) < 2:
        return None
    mean_x = statistics.mean(c for c, _ in points)
    mean_y = statistics.mean(r for _, r in points)
    return sum((c - mean_x) * (r - mean_y) for c, r in points) / sum((c - mean_x) ** 2 for c, _ in points)


if mount_groups is not None:
    lines += mount_section(mount_groups, os.path.basename(args.mounts) if args.mounts else os.path.basename(args.results))

os.makedirs(args.out, exist_ok=True)


def plot(field, title, filename, in_flight=1, ylabel=""):
    plt.figure(figsize=(7, 4))
    for label in labels:
        xs, ys = [], []
        for clients in counts:
            value = median(("broadcast", label, clients, in_flight, 0), field)
            if value is not None:
                xs.append(clients)
                ys.append(value)
        if xs:
            plt.plot(xs, ys, marker="o", label=label)
    plt.title(title)
    plt.xlabel("clients")
    plt.ylabel(ylabel)
    plt.yscale("log")
    plt.grid(True, alpha=0.3)
    plt.legend()
    plt.tight_layout()
    plt.savefig(os.path.join(args.out, filename), dpi=100)
    plt.close()


plot("deliveries_per_s", "Broadcast: delivered messages per second", "bench-deliveries.png", ylabel="msgs/s")
plot("p99_us", "Broadcast: p99 latency", "bench-p99.png", ylabel="µs")
plt.figure(figsize=(7, 4))
for label in memory_labels:
    xs = [c for c in connect_counts if median(("connect", label, c, None, None), "rss_after")]
    ys = [median(("connect", label, c, None, None), "rss_after") / 1048576 for c in xs]
    if xs:
        plt.plot(xs, ys, marker="o", label=label)
plt.title("Resident memory with idle connections")
plt.xlabel("connections")
plt.ylabel("RSS (MiB)")
plt.grid(True, alpha=0.3)
plt.legend()
plt.tight_layout()
plt.savefig(os.path.join(args.out, "bench-memory.png"), dpi=100)
plt.close()

lines += ["", "![deliveries](bench-deliveries.png)", "![p99](bench-p99.png)", "![memory](bench-memory.png)", ""]
extra = os.path.join(args.out, "benchmarks-notes.md")
if os.path.exists(extra):
    lines += [open(extra).read()]
open(os.path.join(args.out, "benchmarks.md"), "w").write("\n".join(lines) + "\n")
