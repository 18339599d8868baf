#!/usr/bin/env python3
"""The tools users have today, timed on the shapes MergeBenchmark uses, for `actcache bench` to compare with.

A batch is 12 keys of F32 [8, 128, 768] plus input_ids (I64 [8, 128]), 37.8 MB, and the same batch is merged N
times, as in MergeBenchmark. Timed, per N:

  reference        torch.cat([old, new]) per batch per key (O(N^2) bytes copied); input_ids kept as a list
  deferred         collect every batch, then one torch.cat per key (in RAM, nothing written)
  deferred_save    deferred, then safetensors.torch.save_file of the result (page cache: like durability PROCESS)
  deferred_save_fsync  the same followed by os.fsync of the file (on the device)
  load             safetensors.torch.load_file of the saved file, then a clone of every tensor: load_file maps
                   the file lazily, so the clone is what reads every byte into RAM (page cache warm)

The saves go to each storage directory given (disk and/or tmpfs, as MergeBenchmark's `storage`). Writes JSON:
{"tool": versions, "shapes": ..., "results": [{"name", "params", "unit": "s/op", "samples": [...], "bytes"}]}.
Times are wall-clock (time.perf_counter) of one whole merge each; warm-up runs are not recorded.
"""
import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time

import safetensors
import safetensors.torch
import torch

LAYERS = 12
ACTIVATION_SHAPE = (8, 128, 768)
IDS_SHAPE = (8, 128)
IDS_KEY = "input_ids"


def make_batch():
    """One batch with non-zero values, built once and merged N times."""
    batch = {}
    count = ACTIVATION_SHAPE[0] * ACTIVATION_SHAPE[1] * ACTIVATION_SHAPE[2]
    base = (torch.arange(count, dtype=torch.int64) % 9973).to(torch.float32) * 0.001
    for layer in range(LAYERS):
        batch["blocks.%d.hook_resid_post" % layer] = (base - layer).reshape(ACTIVATION_SHAPE)
    ids_count = IDS_SHAPE[0] * IDS_SHAPE[1]
    batch[IDS_KEY] = (torch.arange(ids_count, dtype=torch.int64) % 50257).reshape(IDS_SHAPE)
    return batch


def batch_bytes(batch):
    return sum(t.numel() * t.element_size() for t in batch.values())


def reference(batch, n):
    merged = {}
    ids = []
    for _ in range(n):
        for key, tensor in batch.items():
            if key == IDS_KEY:
                ids.append(tensor)
            elif key in merged:
                merged[key] = torch.cat([merged[key], tensor])
            else:
                merged[key] = tensor.clone()
    return merged, ids


def deferred(batch, n):
    collected = [batch for _ in range(n)]
    return {key: torch.cat([b[key] for b in collected]) for key in batch}


def save(merged, path, fsync):
    safetensors.torch.save_file(merged, path)
    if fsync:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load(path):
    return {key: tensor.clone() for key, tensor in safetensors.torch.load_file(path).items()}


def timed(action, warmups, repeats):
    """Runs action warmups + repeats times; returns the measured seconds. Garbage is collected outside timing."""
    samples = []
    for i in range(warmups + repeats):
        gc.collect()
        start = time.perf_counter()
        result = action()
        elapsed = time.perf_counter() - start
        del result
        if i >= warmups:
            samples.append(elapsed)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", default="64", help="comma-separated N values (default 64)")
    parser.add_argument("--storage", action="append", default=[],
                        help="NAME=DIR where saves go, e.g. disk=/tmp or memory=/dev/shm (repeatable)")
    parser.add_argument("--warmups", type=int, default=1, help="unrecorded runs before each measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measured runs of each fast contender")
    parser.add_argument("--reference-repeats", type=int, default=2,
                        help="measured runs of the reference pattern (no warm-up: it is minutes at large N)")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args()

    storages = []
    for entry in args.storage or ["disk=" + tempfile.gettempdir()]:
        name, _, directory = entry.partition("=")
        if not directory or not os.path.isdir(directory):
            parser.error("--storage %r: expected NAME=DIR with an existing directory" % entry)
        storages.append((name, directory))

    batch = make_batch()
    per_batch = batch_bytes(batch)
    results = []

    def record(name, params, samples, n):
        results.append({"name": name, "params": params, "unit": "s/op", "samples": samples,
                        "bytes": per_batch * n})
        print("%-20s %s %s s" % (name, params, ", ".join("%.3f" % s for s in samples)), file=sys.stderr)

    for n in [int(v) for v in args.batches.split(",")]:
        params = {"batches": str(n)}
        record("reference", params, timed(lambda: reference(batch, n), 0, args.reference_repeats), n)
        record("deferred", params, timed(lambda: deferred(batch, n), args.warmups, args.repeats), n)
        for storage, directory in storages:
            path = os.path.join(directory, "actcache-side-by-side-%d.safetensors" % os.getpid())
            try:
                at = dict(params, storage=storage)
                for name, fsync in (("deferred_save", False), ("deferred_save_fsync", True)):
                    def merge_and_save(fsync=fsync):
                        save(deferred(batch, n), path, fsync)
                    record(name, at, timed(merge_and_save, args.warmups, args.repeats), n)
                record("load", at, timed(lambda: load(path), args.warmups, args.repeats), n)
            finally:
                if os.path.exists(path):
                    os.remove(path)

    report = {
        "compare_with": "MergeBenchmark",
        "tool": {"python": platform.python_version(), "torch": torch.__version__,
                 "safetensors": safetensors.__version__, "torch_threads": torch.get_num_threads()},
        "shapes": {"layers": LAYERS, "activation": list(ACTIVATION_SHAPE), "activation_dtype": "F32",
                   "input_ids": list(IDS_SHAPE), "input_ids_dtype": "I64", "batch_bytes": per_batch},
        "results": results,
    }
    with open(args.out, "w", encoding="utf-8") as out:
        json.dump(report, out, indent=2)


if __name__ == "__main__":
    main()
