#!/usr/bin/python3
"""Builds tests/data (the small test-data set shipped in the repository) from the full data set.

    /usr/bin/python3 scripts/make_test_data.py [FULL_DATA_DIR] [OUT_DIR]

FULL_DATA_DIR defaults to $NORMFIELD_DATA, else ../shared/data; OUT_DIR to tests/data. Needs only
python3 + numpy (PNG is read and written here with zlib). What is kept, and why, is listed in
tests/data/README.md; running it again reproduces the shipped files byte for byte.
"""
import json
import os
import shutil
import struct
import sys
import zipfile
import zlib

import numpy as np

SRC = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("NORMFIELD_DATA") or "../shared/data"
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "tests", "data")


# ---------------------------------------------------------------- PNG (non-interlaced) read/write
def read_png(path):
    """Returns uint8 or uint16 array [H, W, C]."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, hdr = 8, [], None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    w, h, depth, ctype, _, _, interlace = hdr
    if interlace or depth not in (8, 16) or ctype not in (0, 2, 4, 6):
        raise SystemExit(f"{path}: unsupported PNG (depth {depth}, colour type {ctype}, interlace {interlace})")
    ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    bpp = ch * depth // 8
    stride = w * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(h, stride + 1)
    out = np.zeros((h, stride), np.int32)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        cur = np.zeros(stride, np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) & 255
        elif f in (1, 3, 4):
            for x in range(stride):
                a = cur[x - bpp] if x >= bpp else 0
                if f == 1:
                    p = a
                elif f == 3:
                    p = (a + prev[x]) >> 1
                else:
                    b, c = prev[x], prev[x - bpp] if x >= bpp else 0
                    pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                    p = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[x] = (line[x] + p) & 255
        else:
            raise SystemExit(f"{path}: bad filter {f}")
        out[y], prev = cur, cur
    b = out.astype(np.uint8)
    if depth == 16:
        return (b.reshape(h, w * ch, 2).astype(np.uint16) @ np.array([256, 1], np.uint16)).reshape(h, w, ch).astype(np.uint16)
    return b.reshape(h, w, ch)


def write_png(path, img):
    """img: uint8 or uint16 [H, W, C]; every row Paeth- or none-filtered, whichever deflates smaller."""
    h, w, ch = img.shape
    depth = 16 if img.dtype == np.uint16 else 8
    ctype = {1: 0, 2: 4, 3: 2, 4: 6}[ch]
    rows = img.astype(">u2").view(np.uint8).reshape(h, -1) if depth == 16 else img.reshape(h, -1).astype(np.uint8)
    bpp = ch * depth // 8
    # Filter 2 (up) and 1 (sub) are vectorised; choose per image the smaller stream.
    r = rows.astype(np.int32)
    up = np.concatenate([r[:1], (r[1:] - r[:-1]) & 255])
    sub = np.concatenate([r[:, :bpp], (r[:, bpp:] - r[:, :-bpp]) & 255], 1)
    best = None
    for f, body in ((0, r), (1, sub), (2, up)):
        if f == 2:
            body = up
            stream = np.concatenate([np.full((h, 1), 2), body], 1)
            stream[0, 0] = 0  # first row: nothing above, 'up' equals 'none'
        else:
            stream = np.concatenate([np.full((h, 1), f), body], 1)
        z = zlib.compress(stream.astype(np.uint8).tobytes(), 9)
        if best is None or len(z) < len(best):
            best = z

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0))
                 + chunk(b"IDAT", best) + chunk(b"IEND", b""))


def copy(rel_src, rel_dst=None):
    dst = os.path.join(OUT, rel_dst or rel_src)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(os.path.join(SRC, rel_src), dst)


# ---------------------------------------------------------------- the sets
def kodak():
    # 128x128 crops at (row 168, col 268) for the landscape images: the 48x48 crop at (200, 300)
    # that the image-fit test has always used is at (32, 32) in them. kodim04 is portrait.
    for name, y, x in (("kodim01", 168, 268), ("kodim13", 168, 268), ("kodim04", 300, 180)):
        img = read_png(os.path.join(SRC, "kodak", name + ".png"))
        write_png(os.path.join(OUT, "kodak", f"{name}_crop128.png"), img[y:y + 128, x:x + 128])


def meshes():
    copy("meshes/bunny_2.5k_instantngp.obj")


def lego():
    scene = "nerf_synthetic/lego_100"
    keep = {"train": range(0, 100, 12), "val": range(0, 3), "test": range(0, 200, 25)}
    for split, ids in keep.items():
        tf = json.load(open(os.path.join(SRC, scene, f"transforms_{split}.json")))
        frames = [fr for fr in tf["frames"] if int(fr["file_path"].rsplit("_", 1)[1]) in set(ids)]
        tf["frames"] = frames
        os.makedirs(os.path.join(OUT, scene), exist_ok=True)
        with open(os.path.join(OUT, scene, f"transforms_{split}.json"), "w") as fh:
            json.dump(tf, fh, indent=1)
            fh.write("\n")
        for fr in frames:
            copy(os.path.join(scene, fr["file_path"].lstrip("./") + ".png"))
    copy("nerf_synthetic/README_nerf_synthetic.txt")


def dtu():
    scene = "dtu/dtu_scan65_400x300"
    views = [0, 12, 24, 36]  # spread around the object; renumbered 0..3 (NeuS indexes by sorted order)
    z = zipfile.ZipFile(os.path.join(SRC, scene, "cameras_sphere.npz"))
    os.makedirs(os.path.join(OUT, scene), exist_ok=True)
    dst = os.path.join(OUT, scene, "cameras_sphere.npz")
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as out:
        for new, old in enumerate(views):
            for kind in ("scale_mat", "scale_mat_inv", "world_mat", "world_mat_inv", "camera_mat", "camera_mat_inv"):
                info = zipfile.ZipInfo(f"{kind}_{new}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                out.writestr(info, z.read(f"{kind}_{old}.npy"))
            copy(f"{scene}/image/{old:06d}.png", f"{scene}/image/{new:06d}.png")
            copy(f"{scene}/mask/{old:03d}.png", f"{scene}/mask/{new:03d}.png")


def ct():
    copy("ct/shepp_logan_phantom_skimage_400.png")
    copy("ct/chest_wire.png")


def mri():
    for name in ("ch2", "ch2bet"):
        v = np.load(os.path.join(SRC, "mri", f"{name}_96cube_uint8.npy")).astype(np.float64)
        small = v.reshape(48, 2, 48, 2, 48, 2).mean((1, 3, 5))
        os.makedirs(os.path.join(OUT, "mri"), exist_ok=True)
        np.save(os.path.join(OUT, "mri", f"{name}_48cube_uint8.npy"), np.round(small).astype(np.uint8))
    copy("mri/COPYRIGHT_mricron-data_debian.txt")


if __name__ == "__main__":
    for f in (kodak, meshes, lego, dtu, ct, mri):
        f()
        print("made", f.__name__)
