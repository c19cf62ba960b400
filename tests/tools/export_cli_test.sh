#!/usr/bin/env bash
# spikevid export --torchscript as a Python user runs it: the shipped encoder
# and decoders load in Debian's PyTorch (python3-torch, as tools/setup
# installs it) and give rates, then images of the documented shapes; bad
# input is one line and exit 1. And relink refuses a decoder without a ridge path.
#   export_cli_test.sh SPIKEVID
set -u
sv=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/expect.sh"  # fail, expect

expect 0 "$sv" export --torchscript "$tmp"
for f in encoder-cnn sid-lite-natural sid-natural linear-natural; do
  [ -s "$tmp/$f.pt" ] || fail "export wrote no $f.pt"
done
ls "$tmp"/*.part* "$tmp"/.*.lock >/dev/null 2>&1 && fail "export left a .part or lock file"
/usr/bin/python3 - "$tmp" <<'PY' || fail "the exports do not run in Python"
import sys, torch
d = sys.argv[1]
enc = torch.jit.load(f"{d}/encoder-cnn.pt").eval()
torch.manual_seed(0)
img = torch.rand(3, 1, 64, 64)
with torch.no_grad():
    rates = enc(img)
    assert rates.shape == (3, 2048) and (rates >= 0).all(), rates.shape
    counts = torch.poisson((rates * enc.window_s / enc.bins).unsqueeze(1).expand(-1, enc.bins, -1))
    for name in ("sid-lite-natural", "sid-natural", "linear-natural"):
        for dtype in (torch.float32, torch.bfloat16):
            dec = torch.jit.load(f"{d}/{name}.pt").eval().to(dtype)
            out = dec(counts.to(dtype)).float()
            assert out.shape == (3, 1, 64, 64), (name, out.shape)
            assert 0 <= out.min() and out.max() <= 1 and out.std() > 0.01, name
    enc.to(torch.bfloat16)(img.to(torch.bfloat16))  # the encoder runs in bfloat16 too
PY

expect 1 "$sv" export --torchscript "$tmp/no/such/folder"
expect 1 "$sv" export --torchscript "$tmp" --encoder retina
expect 1 "$sv" export --torchscript "$tmp" --decoder models/weights/encoder-cnn.svm
expect 1 "$sv" export --torchscript "$tmp" --decoder README.md
expect 1 "$sv" relink models/weights/sid-natural.svm --ridge-path models/weights/linear-scenes.svm -o "$tmp/x.svm"
expect 1 "$sv" relink models/weights/sid-lite-natural.svm --ridge-path models/weights/linear-scenes.svm \
  -o models/weights/sid-lite-natural.svm
[ -e "$tmp/x.svm" ] && fail "relink wrote a file it refused"
echo "export: ok"
