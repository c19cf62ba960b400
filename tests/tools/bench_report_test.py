#!/usr/bin/env python3
"""spikevid bench runs and its report is complete and consistent (not its speed).

   bench_report_test.py SPIKEVID
"""
import json, os, subprocess, sys, tempfile

sv = sys.argv[1]
with tempfile.TemporaryDirectory() as d:
    j, csv, png, trace = (os.path.join(d, n) for n in ("b.json", "b.csv", "b.png", "t.json"))
    r = subprocess.run([sv, "bench", "--frames", "24", "--warmup", "4", "--batch", "1,4",
                        "--json", j, "--csv", csv, "--plot", png, "--trace", trace],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rep = json.load(open(j))
    for key in ("fps", "efficiency", "drops", "end_to_end", "stages", "config", "machine", "runs"):
        assert key in rep, key
    assert len(rep["runs"]) == 2 and [x["config"]["batch"] for x in rep["runs"]] == [1, 4]
    # The shipped line: transcode's (offline), with the view and a null sink.
    names = [s["name"] for s in rep["stages"]]
    assert names == ["capture", "preprocess", "encode", "decode", "compose", "sink"], names
    assert rep["stage_names"] == names
    for run in rep["runs"]:
        assert run["fps"] > 0 and run["sequential_fps"] > 0
        assert abs(run["efficiency"] - run["fps"] / run["sequential_fps"]) < 1e-9
        assert run["frames_in"] == 24 and run["frames_out"] == 24  # offline: lossless
        assert set(run["drops"]) == {"capture->preprocess", "preprocess->encode",
                                     "encode->decode", "decode->compose", "compose->sink"}
        assert all(v == 0 for v in run["drops"].values())
        for s in run["stages"] + [run["end_to_end"]]:
            assert s["p50_ms"] <= s["p90_ms"] <= s["p99_ms"] <= s["p999_ms"] <= s["max_ms"], s
            assert s["p50_ms"] >= 0 and s["mean_ms"] <= s["max_ms"]
        c = run["compute"]
        assert c["matmul_peak_gflops"] > 0 and c["conv_peak_gflops"] > 0 and c["decoder_gflops"] > 0
        assert abs(c["decoder_gflops_line"] - run["fps"] * c["decoder_mflop_per_frame"] / 1e3) < 1e-6 * c["decoder_gflops_line"]
        assert c["peak_gflops"] == max(c["matmul_peak_gflops"], c["conv_peak_gflops"])
        assert c["decoder_mflop_per_frame"] > 50  # the default decoder, SID-lite: 76 MFLOP
        assert 0 < run["reconstruction"]["mean_ssim"] < 1
        assert abs(c["decoder_fraction_of_peak"] - c["decoder_gflops"] / c["peak_gflops"]) < 1e-6
        assert run["cpu"]["peak_rss_mb"] > 0
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.exists(os.path.join(d, "b-1.png"))
    assert json.load(open(trace))["traceEvents"]
    rows = open(csv).read().splitlines()
    assert rows[0].startswith("run,decoder,tiles,batch") and len(rows) == 1 + 2 * 7
    # Bad values: usage errors, one line.
    bf16 = any(w in ("amx_bf16", "avx512_bf16")
               for l in open("/proc/cpuinfo") if l.startswith("flags") for w in l.split())
    for run in rep["runs"]:
        # The default precision, auto: bfloat16 where the CPU has it in hardware
        # (the shipped models record that it costs them under 0.005 SSIM).
        assert run["config"]["precision_setting"] == "auto"
        assert run["config"]["precision"] == ("bfloat16" if bf16 else "float32"), run["config"]
        assert run["config"]["cuda_graphs"] is False
        assert run["config"]["threads"] == "auto" and run["config"]["decode_workers"] >= 1
        assert "gpu" not in run  # the CUDA path's figures only on a CUDA device
    # Batch auto: 8 offline, 1 realtime.
    r = subprocess.run([sv, "bench", "--frames", "24", "--warmup", "4", "--no-sequential",
                        "--json", j], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    c = json.load(open(j))["runs"][0]["config"]
    assert c["batch"] == 8 and c["batch_setting"] == "auto", c
    for bad in (["--tiles", "3by4"], ["--mode", "fast"], ["--batch", "0"], ["--device", "tpu"],
                ["--precision", "float16"], ["--precision", "double"], ["--cuda-graphs", "on"],
                ["--cuda-graphs", "maybe"], ["--mode", "realtime", "--batch", "4"],
                ["--view", "mosaic"]):
        r = subprocess.run([sv, "bench", "--frames", "2"] + bad, capture_output=True, text=True)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, (bad, r.stderr)
    # bfloat16 on the CPU: both models in it, and how far it lands from float32.
    r = subprocess.run([sv, "bench", "--frames", "8", "--warmup", "2", "--precision", "bfloat16",
                        "--no-sequential", "--json", j], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    run = json.load(open(j))["runs"][0]
    assert run["config"]["precision"] == "bfloat16" and run["frames_out"] == 8
    assert 0 < run["max_abs_diff_vs_cpu_float32"] < 0.25, run["max_abs_diff_vs_cpu_float32"]
    assert "peer" not in run  # only when asked
    # --peer: the plain loop over the same models, and the line's ratio to it, per setting.
    r = subprocess.run([sv, "bench", "--frames", "16", "--warmup", "2", "--batch", "1,4", "--peer",
                        "--view", "none", "--no-sequential", "--json", j], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for run in json.load(open(j))["runs"]:
        p = run["peer"]
        assert p["fps"] > 0 and p["threads"] >= 1, p
        assert abs(p["line_to_peer"] - run["fps"] / p["fps"]) < 1e-9
    assert r.stdout.count("the line is ") == 2 and "line / loop" in r.stdout, r.stdout
    # The realtime line is live's: every edge keeps the latest frame; --view none
    # leaves the compose stage out.
    r = subprocess.run([sv, "bench", "--mode", "realtime", "--fps", "60", "--frames", "30",
                        "--warmup", "5", "--view", "none", "--no-sequential", "--json", j],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    run = json.load(open(j))["runs"][0]
    assert [s["name"] for s in run["stages"]] == ["capture", "preprocess", "encode", "decode", "sink"]
    assert run["frames_in"] == 30 and run["frames_out"] + sum(run["drops"].values()) == 30
print("bench report: all checks passed")
