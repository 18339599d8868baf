#!/usr/bin/env python3
"""torch.cat of the shapes GpuMergeBenchmark concatenates, timed with CUDA events after warm-up (issue 8).

For each (batches, rows): `batches` F32 tensors of [rows, 768] already on the GPU, concatenated along dim 0 by
torch.cat (allocating, through torch's caching allocator) and by torch.cat(out=...) into a reused tensor, plus
one device-to-device copy of the same bytes (dst.copy_(src)) for reference. Prints a table and writes JSON.

Usage: torch_cat_gpu.py [--out results.json] [--iterations 50] [--warmup 10]
"""
import argparse
import json
import sys

WIDTH = 768
BATCHES = (16, 64)
ROWS = (8, 1024, 4096)


def timed_ms(torch, function, warmup, iterations):
    """Mean milliseconds per call over `iterations` calls, timed with CUDA events after `warmup` calls."""
    for _ in range(warmup):
        function()
    torch.cuda.synchronize()
    start = torch.cuda.Event(enable_timing=True)
    end = torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        function()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / iterations


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="torch_cat_gpu.json")
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    import torch
    if not torch.cuda.is_available():
        print("torch_cat_gpu.py needs a GPU: torch.cuda.is_available() is False", file=sys.stderr)
        return 2
    device = torch.device("cuda")
    results = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
               "cuda": torch.version.cuda, "rows": []}
    print(f"device {results['device']}, torch {results['torch']}, CUDA {results['cuda']}")
    print("| batches | rows | bytes | torch.cat ms | cat(out=) ms | copy_ ms | torch.cat GB/s | copy_ GB/s |")
    print("|---|---|---|---|---|---|---|---|")
    for batches in BATCHES:
        for rows in ROWS:
            parts = [torch.full((rows, WIDTH), float(b), dtype=torch.float32, device=device) for b in range(batches)]
            total = batches * rows * WIDTH * 4
            out = torch.empty((batches * rows, WIDTH), dtype=torch.float32, device=device)
            source = torch.empty_like(out)
            cat_ms = timed_ms(torch, lambda: torch.cat(parts, dim=0), args.warmup, args.iterations)
            cat_out_ms = timed_ms(torch, lambda: torch.cat(parts, dim=0, out=out), args.warmup, args.iterations)
            copy_ms = timed_ms(torch, lambda: out.copy_(source), args.warmup, args.iterations)
            row = {"batches": batches, "rows": rows, "width": WIDTH, "bytes": total, "cat_ms": cat_ms,
                   "cat_out_ms": cat_out_ms, "copy_ms": copy_ms}
            results["rows"].append(row)
            print(f"| {batches} | {rows} | {total} | {cat_ms:.4f} | {cat_out_ms:.4f} | {copy_ms:.4f} | "
                  f"{total / cat_ms / 1e6:.1f} | {total / copy_ms / 1e6:.1f} |")
            del parts, out, source
            torch.cuda.empty_cache()
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
