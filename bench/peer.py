#!/usr/bin/python3
"""The plain loop spikevid's pipeline is measured against (issue 14).

What a researcher would write with PyTorch (Debian's python3-torch, the same
LibTorch underneath) over the TorchScript exports of spikevid's models
(`spikevid export --torchscript DIR`): for each batch of 64x64 frames, the CNN
encoder's rates, Poisson counts, the decoder's images, one after another on
`--threads` threads. Prints one line per setting and, with --json, the figures.

  python3 bench/peer.py --models out/ts --decoder sid-natural.pt \
      --batch 1,8 --precision float32,bfloat16 --threads 2
"""
import argparse
import json
import os
import sys
import time

try:
    import torch
except ImportError:
    sys.exit("peer.py: no PyTorch (Debian: apt install python3-torch; tools/setup installs it)")


def run(encoder, decoder, batch, dtype, frames, warmup, pool):
    """Frames per second of encode -> spikes -> decode over `frames` frames."""
    window = encoder.window_s / encoder.bins
    n = 0
    t0 = None
    i = 0
    with torch.no_grad():
        while n < frames + warmup:
            if n >= warmup and t0 is None:
                t0 = time.perf_counter()
            images = pool[i % len(pool)][:batch]
            i += 1
            rates = encoder(images.to(dtype)).float()
            counts = torch.poisson((rates * window).unsqueeze(1).expand(-1, encoder.bins, -1))
            out = decoder(counts.to(dtype)).float()
            assert out.shape == (batch, 1, 64, 64)
            n += batch
    return (n - warmup) / (time.perf_counter() - t0)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", required=True, help="folder of spikevid export --torchscript")
    p.add_argument("--encoder", default="encoder-cnn.pt")
    p.add_argument("--decoder", default="sid-natural.pt")
    p.add_argument("--batch", default="1,8")
    p.add_argument("--precision", default="float32,bfloat16")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--frames", type=int, default=1200)
    p.add_argument("--warmup", type=int, default=20, help="frames left out (at least 10 batches)")
    p.add_argument("--json", help="write the figures here")
    a = p.parse_args()
    for f in (a.encoder, a.decoder):
        if not os.path.isfile(os.path.join(a.models, f)):
            sys.exit(f"peer.py: {os.path.join(a.models, f)} does not exist (spikevid export --torchscript {a.models})")
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    results = []
    for prec in a.precision.split(","):
        dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[prec]
        encoder = torch.jit.load(os.path.join(a.models, a.encoder)).eval().to(dtype)
        decoder = torch.jit.load(os.path.join(a.models, a.decoder)).eval().to(dtype)
        for b in (int(x) for x in a.batch.split(",")):
            pool = [torch.rand(b, 1, 64, 64) for _ in range(8)]
            # Warm-up of at least 10 batches: TorchScript's profiling executor
            # specializes a graph over its first calls at each shape.
            fps = run(encoder, decoder, b, dtype, a.frames, max(a.warmup, 10 * b), pool)
            results.append({"decoder": a.decoder, "precision": prec, "batch": b,
                            "threads": a.threads, "fps": fps, "frames": a.frames})
            print(f"peer: {a.decoder} batch {b}, {a.threads} thread(s), {prec}: {fps:.1f} frames/s",
                  flush=True)
    if a.json:
        with open(a.json + ".part", "w") as f:
            json.dump({"torch": torch.__version__, "runs": results}, f, indent=1)
        os.replace(a.json + ".part", a.json)


if __name__ == "__main__":
    main()
