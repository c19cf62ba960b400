#!/usr/bin/python3
"""Issue 14, point 3: is channels-last the memory format oneDNN runs fastest?

The decoders' exports (`spikevid export --torchscript DIR`, BatchNorm folded)
timed side by side in one process, default (contiguous) against channels-last
weights and activations, in float32 and bfloat16, batch 1 and 8, on one
thread (what each decode worker of the line uses) and on two. Interleaved:
each cell alternates the two formats, several rounds, best round kept.

  /usr/bin/python3 bench/channels_last.py --models out/ts --decoder sid-natural.pt
"""
import argparse
import json
import os
import sys
import time

try:
    import torch
except ImportError:
    sys.exit("channels_last.py: no PyTorch (Debian: apt install python3-torch)")


def per_frame_ms(model, x, seconds):
    with torch.no_grad():
        for _ in range(3):
            model(x)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            model(x)
            n += 1
        return 1e3 * (time.perf_counter() - t0) / (n * x.shape[0])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", required=True)
    p.add_argument("--decoder", default="sid-natural.pt")
    p.add_argument("--inputs", type=int, default=2048, help="cells x bins")
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--json")
    a = p.parse_args()
    path = os.path.join(a.models, a.decoder)
    if not os.path.isfile(path):
        sys.exit(f"channels_last.py: {path} does not exist (spikevid export --torchscript {a.models})")
    rows = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for dtype in (torch.float32, torch.bfloat16):
            for batch in (1, 8):
                x = torch.poisson(torch.full((batch, a.inputs), 0.5)).to(dtype)
                plain = torch.jit.load(path).eval().to(dtype)
                last = torch.jit.load(path).eval().to(dtype).to(memory_format=torch.channels_last)
                best = {"contiguous": 1e9, "channels_last": 1e9}
                for _ in range(a.rounds):
                    best["contiguous"] = min(best["contiguous"], per_frame_ms(plain, x, a.seconds))
                    best["channels_last"] = min(best["channels_last"], per_frame_ms(last, x, a.seconds))
                with torch.no_grad():
                    diff = (plain(x).float() - last(x).float()).abs().max().item()
                row = {"threads": threads, "precision": str(dtype).split(".")[1], "batch": batch,
                       "contiguous_ms": best["contiguous"], "channels_last_ms": best["channels_last"],
                       "max_abs_diff": diff}
                rows.append(row)
                print(f"{a.decoder} {threads} thread(s) {row['precision']} batch {batch}: contiguous "
                      f"{row['contiguous_ms']:.3f} ms a frame, channels-last {row['channels_last_ms']:.3f} "
                      f"({row['contiguous_ms'] / row['channels_last_ms']:.2f}x), largest difference {diff:.1e}",
                      flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"decoder": a.decoder, "torch": torch.__version__, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
