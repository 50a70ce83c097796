#!/usr/bin/python3
"""Reference-style PyTorch timing for the normfield comparison (issue: fast norms).

Trains the same configuration as `normfield bench-step` / `normfield fit-image` with the formulas of
the official Norm-INR code written as plain PyTorch tensor ops (several full-size temporaries per
CN layer, as the reference does) and prints ms/iter and PSNR, so the C++/Python ratio is measured
side by side on one machine:

    /usr/bin/python3 scripts/reference_step.py --arch 10x28 --method relu+cn --points 393216 --iters 10
    ./build/normfield bench-step --arch 10x28 --methods relu,relu+cn --points 393216 --iters 10

Uses Debian's python3-torch on the CPU, or any torch with --device cuda (scripts/gpu_check.sh runs it
on the GPU next to `bench-step`). --method and --arch take comma lists (every pair is timed in one
process); --json writes the rows.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn


class AffineNorm(nn.Module):  # Norm-INR reference formulas: (x - u) / sqrt(v + eps) * w + b
    def __init__(self, c, eps=1e-5):
        super().__init__()
        self.w = nn.Parameter(torch.ones(c))
        self.b = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def affine(self, x, u, v):
        return (x - u) / torch.sqrt(v + self.eps) * self.w + self.b


class CrossNorm(AffineNorm):
    def forward(self, x):
        T, C = x.shape
        u = (x.sum(1, keepdim=True) + x.sum(0, keepdim=True) - x) / (T + C)
        v = x.var(0, keepdim=True) + x.var(1, keepdim=True)
        return self.affine(x, u, v)


class GlobalNorm(AffineNorm):
    def forward(self, x):
        return self.affine(x, x.mean(), x.var())


def encode_pe(x, octaves=10):
    parts = [x]
    for k in range(octaves):
        f = (2.0 ** k) * math.pi
        parts += [torch.sin(f * x), torch.cos(f * x)]
    return torch.cat(parts, -1)


def build(method, layers, width, out_dim=3):
    base, _, norm = method.partition("+")
    d = 2 + (40 if base == "pe" else 0)
    mods = []
    for _ in range(layers):
        mods.append(nn.Linear(d, width))
        if norm == "bn":
            mods.append(nn.BatchNorm1d(width))
        elif norm == "ln":
            mods.append(nn.LayerNorm(width))
        elif norm == "gn":
            mods.append(GlobalNorm(width))
        elif norm == "cn":
            mods.append(CrossNorm(width))
        mods.append(nn.ReLU())
        d = width
    mods.append(nn.Linear(d, out_dim))
    net = nn.Sequential(*mods)
    return (lambda x: net(encode_pe(x))) if base == "pe" else net, net


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", default="10x28", help="comma list, e.g. 10x28,13x49")
    ap.add_argument("--method", "--methods", default="relu+cn", help="comma list, e.g. relu,relu+cn")
    ap.add_argument("--points", type=int, default=768 * 512)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--json", default="", help="also write the rows to this JSON file")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    rows = []
    for arch in args.arch.split(","):
        L, W = (int(v) for v in arch.lower().split("x"))
        for method in args.method.split(","):
            torch.manual_seed(0)
            f, net = build(method, L, W)
            net.to(dev)
            x = torch.rand(args.points, 2, device=dev) * 2 - 1
            y = torch.rand(args.points, 3, device=dev)
            lr = 1e-2 if "+" in method else 2e-4
            opt = torch.optim.Adam(net.parameters(), lr=lr)

            def step():
                opt.zero_grad()
                loss = ((f(x) - y) ** 2).mean()
                loss.backward()
                opt.step()
                return loss

            for _ in range(args.warmup):
                step()
            sync()
            t0 = time.perf_counter()
            for _ in range(args.iters):
                loss = step()
            sync()
            ms = (time.perf_counter() - t0) * 1000 / args.iters
            print(f"reference (PyTorch {torch.__version__}, {args.device}, {torch.get_num_threads()} threads): "
                  f"{method} {arch} {args.points} points: {ms:.2f} ms/iter, final loss {loss.item():.4e}", flush=True)
            rows.append({"method": method, "arch": arch, "points": args.points, "device": args.device,
                         "ms_per_iter": ms, "torch": torch.__version__, "iters": args.iters})
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
