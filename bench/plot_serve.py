#!/usr/bin/env python3
"""p99 latency against streams for bench/serve.sh's results, as a PNG.

    bench/plot_serve.py RESULTS_DIR OUT.png

Reads RESULTS_DIR/serve-{mp4,none}-N.json (spikevid serve --stats) and draws,
for each, the worst stream's p99 (ms) against N, with the 50 ms goal as a
dashed line. Python's standard library only (zlib for the PNG, a 5x7 bitmap
font for the labels), so it runs wherever the bench does.
"""
import glob
import json
import os
import re
import struct
import sys
import zlib

W, H = 720, 440
L, R, T, B = 70, 20, 40, 60  # margins

FONT = {  # 5x7, rows top to bottom, 5 bits each
    "0": "01110 10001 10011 10101 11001 10001 01110", "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111", "3": "11110 00001 00001 01110 00001 00001 11110",
    "4": "00010 00110 01010 10010 11111 00010 00010", "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110", "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110", "9": "01110 10001 10001 01111 00001 00010 01100",
    "a": "00000 00000 01110 00001 01111 10001 01111", "c": "00000 00000 01110 10000 10000 10001 01110",
    "d": "00001 00001 01101 10011 10001 10001 01111", "e": "00000 00000 01110 10001 11111 10000 01110",
    "g": "00000 01111 10001 10001 01111 00001 01110", "h": "10000 10000 10110 11001 10001 10001 10001",
    "i": "00100 00000 01100 00100 00100 00100 01110", "l": "01100 00100 00100 00100 00100 00100 01110",
    "m": "00000 00000 11010 10101 10101 10001 10001", "n": "00000 00000 10110 11001 10001 10001 10001",
    "o": "00000 00000 01110 10001 10001 10001 01110", "p": "00000 00000 11110 10001 11110 10000 10000",
    "r": "00000 00000 10110 11001 10000 10000 10000", "s": "00000 00000 01110 10000 01110 00001 11110",
    "t": "01000 01000 11100 01000 01000 01001 00110", "u": "00000 00000 10001 10001 10001 10011 01101",
    "v": "00000 00000 10001 10001 10001 01010 00100", "w": "00000 00000 10001 10001 10101 10101 01010",
    "y": "00000 00000 10001 10001 01111 00001 01110", "k": "10000 10000 10010 10100 11000 10100 10010",
    "f": "00110 01001 01000 11100 01000 01000 01000", "b": "10000 10000 10110 11001 10001 10001 11110",
    "S": "01111 10000 10000 01110 00001 00001 11110", "P": "11110 10001 10001 11110 10000 10000 10000",
    "U": "10001 10001 10001 10001 10001 10001 01110", "I": "01110 00100 00100 00100 00100 00100 01110",
    "D": "11100 10010 10001 10001 10001 10010 11100", "L": "10000 10000 10000 10000 10000 10000 11111",
    "-": "00000 00000 00000 11111 00000 00000 00000", ",": "00000 00000 00000 00000 00110 00100 01000",
    ".": "00000 00000 00000 00000 00000 01100 01100", "(": "00010 00100 01000 01000 01000 00100 00010",
    ")": "01000 00100 00010 00010 00010 00100 01000", " ": "00000 00000 00000 00000 00000 00000 00000",
    "/": "00001 00010 00010 00100 01000 01000 10000", ":": "00000 01100 01100 00000 01100 01100 00000",
}


class Canvas:
    def __init__(self):
        self.px = bytearray(b"\xff" * (W * H * 3))

    def dot(self, x, y, c):
        if 0 <= x < W and 0 <= y < H:
            i = (y * W + x) * 3
            self.px[i:i + 3] = bytes(c)

    def line(self, x0, y0, x1, y1, c, dash=0, width=1):
        n = max(abs(x1 - x0), abs(y1 - y0), 1)
        for k in range(n + 1):
            if dash and (k // dash) % 2:
                continue
            x, y = round(x0 + (x1 - x0) * k / n), round(y0 + (y1 - y0) * k / n)
            for dx in range(width):
                for dy in range(width):
                    self.dot(x + dx - width // 2, y + dy - width // 2, c)

    def text(self, x, y, s, c=(0, 0, 0), scale=2):
        for ch in s:
            rows = FONT.get(ch, FONT[" "]).split()
            for r, bits in enumerate(rows):
                for col, b in enumerate(bits):
                    if b == "1":
                        for dx in range(scale):
                            for dy in range(scale):
                                self.dot(x + col * scale + dx, y + r * scale + dy, c)
            x += 6 * scale

    def png(self, path):
        raw = b"".join(b"\x00" + bytes(self.px[y * W * 3:(y + 1) * W * 3]) for y in range(H))
        chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    folder, out = sys.argv[1], sys.argv[2]
    series = {}
    for path in glob.glob(os.path.join(folder, "serve-*-*.json")):
        m = re.match(r"serve-(mp4|none)-(\d+)\.json", os.path.basename(path))
        if not m:
            continue
        d = json.load(open(path))
        p99 = max(s["latency_ms"]["p99"] for s in d["streams"])
        lost = sum(s["lost"] for s in d["streams"])
        series.setdefault(m.group(1), []).append((int(m.group(2)), p99, lost))
    if not series:
        sys.exit(f"{folder}: no serve-*-N.json")
    xs = [n for v in series.values() for n, _, _ in v]
    ymax = max(60.0, max(p for v in series.values() for _, p, _ in v) * 1.1)
    xmax = max(xs) * 1.05
    sx = lambda n: round(L + (W - L - R) * n / xmax)
    sy = lambda ms: round(H - B - (H - T - B) * min(ms, ymax) / ymax)
    c = Canvas()
    c.line(L, H - B, W - R, H - B, (0, 0, 0))
    c.line(L, T, L, H - B, (0, 0, 0))
    step = 10 if ymax <= 120 else 50 if ymax <= 600 else 200
    for ms in range(0, int(ymax) + 1, step):
        c.line(L - 4, sy(ms), L, sy(ms), (0, 0, 0))
        c.text(L - 12 - 12 * len(str(ms)), sy(ms) - 7, str(ms))
    for n in sorted(set(xs)):
        c.line(sx(n), H - B, sx(n), H - B + 4, (0, 0, 0))
        c.text(sx(n) - 6 * len(str(n)), H - B + 10, str(n))
    c.line(L, sy(50), W - R, sy(50), (120, 120, 120), dash=6)
    c.text(W - R - 12 * 7, sy(50) - 18, "50 ms", (120, 120, 120))
    colors = {"mp4": (200, 60, 40), "none": (40, 90, 200)}
    for key, pts in series.items():
        pts.sort()
        for (a, pa, _), (b, pb, _) in zip(pts, pts[1:]):
            c.line(sx(a), sy(pa), sx(b), sy(pb), colors[key], width=2)
        for n, p, lost in pts:
            for dx in range(-3, 4):
                for dy in range(-3, 4):
                    c.dot(sx(n) + dx, sy(p) + dy, colors[key] if not lost else (0, 0, 0))
    c.text(L, 10, "serve: worst stream p99 (ms) against streams at 30 fps", scale=2)
    c.text(L + 10, T + 10, "mp4 outputs", colors["mp4"])
    c.text(L + 10, T + 30, "no outputs", colors["none"])
    c.text(L + 10, T + 50, "black: frames lost", (0, 0, 0))
    c.text((W - 12 * 7) // 2, H - 22, "streams")
    c.png(out)


if __name__ == "__main__":
    main()
