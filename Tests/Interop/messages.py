"""Deterministic test messages: unicode text and binary, sizes from 1 byte to 64 KiB."""
from __future__ import annotations

import math
import random

# Text alphabet: ASCII, 2-, 3- and 4-byte UTF-8 characters, JSON-ish and control characters
# (never the polling record separator \x1e, which cannot travel in a text message).
ALPHABET = (list("abcdefghijklmnopqrstuvwxyz0123456789 ") +
            ["é", "ß", "Ω", "ж", "中", "文", "€", "\u2028", "😀", "🚀", "𝄞",
             "\"", "\\", "{", "}", "[", "]", ",", ":", "\n", "\t", "\r", "\x00", "\x1f", "b"])


def sizes(rng: random.Random, n: int, largest: int = 65536) -> list[int]:
    """n sizes, log-uniform in [1, largest], always including 1 and largest."""
    out = [max(1, int(math.exp(rng.uniform(0, math.log(largest))))) for _ in range(n)]
    if n >= 2:
        out[0], out[-1] = 1, largest
    return out


def text_message(rng: random.Random, index: int, size: int) -> str:
    """A text message of about `size` UTF-8 bytes. It starts with 'x' so that no peer takes it
    for JSON (python-engineio decodes text messages that parse as JSON)."""
    if size <= 1:
        return "x"
    head = f"x{index}:"
    body = []
    length = len(head.encode())
    while length < size:
        ch = rng.choice(ALPHABET)
        n = len(ch.encode())
        if length + n > size:
            ch, n = "a", 1
        body.append(ch)
        length += n
    return head + "".join(body)


def binary_message(rng: random.Random, index: int, size: int) -> bytes:
    return rng.randbytes(size)


def mixed_messages(seed: int, n_text: int, n_binary: int, largest: int = 65536) -> list:
    """n_text str and n_binary bytes messages, interleaved in a seeded random order."""
    rng = random.Random(seed)
    kinds = ["t"] * n_text + ["b"] * n_binary
    rng.shuffle(kinds)
    out: list = []
    for i, (kind, size) in enumerate(zip(kinds, sizes(rng, len(kinds), largest))):
        out.append(text_message(rng, i, size) if kind == "t" else binary_message(rng, i, size))
    return out


def describe_mismatch(sent: list, received: list) -> str:
    """A short explanation of the first difference between two message sequences."""
    def short(m):
        kind = "bytes" if isinstance(m, (bytes, bytearray)) else type(m).__name__
        return f"{kind}[{len(m) if hasattr(m, '__len__') else '?'}] {repr(m[:24]) if hasattr(m, '__getitem__') else repr(m)}"
    for i, (a, b) in enumerate(zip(sent, received)):
        if a != b:
            where = [j for j, m in enumerate(sent) if m == b][:3]
            return (f"first difference at #{i} of {len(sent)} sent / {len(received)} received: "
                    f"sent {short(a)}, received {short(b)} (that one was sent at {where})")
    if len(received) < len(sent):
        return f"{len(sent) - len(received)} messages missing from #{len(received)}: next {short(sent[len(received)])}"
    return f"{len(received) - len(sent)} extra messages received after #{len(sent)}: {short(received[len(sent)])}"
