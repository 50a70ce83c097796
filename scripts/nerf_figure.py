#!/usr/bin/env python3
"""Side-by-side figure GT | model A | model B from two `normfield nerf train/eval` output folders.

Reads compare_kkk.png (GT | render | depth, 4-pixel white gaps) of run A for the ground truth and
render_kkk.png of both runs; writes rows of views, columns GT | A | B, upscaled by an integer factor.
Standard library only (zlib PNG reader/writer for the 8-bit RGB/RGBA PNGs normfield writes).

  python3 scripts/nerf_figure.py RUN_A RUN_B OUT.png [--views 0,1] [--scale 2]
"""
import argparse
import struct
import zlib


def read_png(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path + ": not a PNG"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and ctype in (0, 2, 6), path + ": unsupported PNG"
            ch = {0: 1, 2: 3, 6: 4}[ctype]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * ch
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - ch] if i >= ch else 0
            b = prev[i]
            c = prev[i - ch] if i >= ch else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * ch:x * ch + 3]) if ch >= 3 else (line[x],) * 3 for x in range(w)])
        prev = line
    return rows


def write_png(path, rows):
    h, w = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(v for px in r for v in px) for r in rows)
    chunk = lambda k, d: struct.pack(">I", len(d)) + k + d + struct.pack(">I", zlib.crc32(k + d) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run_a")
    ap.add_argument("run_b")
    ap.add_argument("out")
    ap.add_argument("--views", default="0")
    ap.add_argument("--scale", type=int, default=2)
    ap.add_argument("--gap", type=int, default=6)
    a = ap.parse_args()
    white = (255, 255, 255)
    out = []
    for k in [int(v) for v in a.views.split(",")]:
        ra = read_png(f"{a.run_a}/render_{k:03d}.png")
        rb = read_png(f"{a.run_b}/render_{k:03d}.png")
        W = len(ra[0])
        gt = [r[:W] for r in read_png(f"{a.run_a}/compare_{k:03d}.png")]
        for y in range(len(ra)):
            line = []
            for panel in (gt, ra, rb):
                line += [px for px in panel[y] for _ in range(a.scale)] + [white] * a.gap
            line = line[:-a.gap]
            out += [line] * a.scale
        out += [[white] * len(out[-1])] * a.gap
    write_png(a.out, out[:-a.gap])


if __name__ == "__main__":
    main()
