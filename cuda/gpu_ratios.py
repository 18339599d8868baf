#!/usr/bin/env python3
"""The issue-8 GPU ratios from one run: GpuMergeBenchmark's JMH JSON and torch_cat_gpu.py's JSON.

- device concat vs cuMemcpyDtoD of the same bytes (target >= 0.80): time(memcpyDtoD) / time(deviceConcatInto),
  and the same for the allocating deviceConcat;
- device concat vs torch.cat of the same shapes (target >= 1.0): time(torch.cat) / time(deviceConcat) (both
  allocate) and time(torch.cat(out=)) / time(deviceConcatInto);
- host (page cache) -> device concat vs pinned host-to-device copy (target >= 0.70): time(pinnedHtoD) /
  time(hostConcat).
A ratio is a speed ratio: above 1 means ours is faster. Usage: gpu_ratios.py gpu-jmh.json torch_cat_gpu.json
"""
import json
import os
import sys


def main():
    jmh = json.load(open(sys.argv[1]))
    torch = {"rows": []}
    if len(sys.argv) > 2 and os.path.exists(sys.argv[2]):
        torch = json.load(open(sys.argv[2]))
    else:
        print("(no torch.cat results: the torch columns read n/a)\n")
    ms = {}
    for result in jmh:
        name = result["benchmark"].rsplit(".", 1)[1]
        params = result.get("params", {})
        key = (int(params["batches"]), int(params["rows"]))
        unit = result["primaryMetric"]["scoreUnit"]
        score = result["primaryMetric"]["score"]
        ms.setdefault(key, {})[name] = score * {"ms/op": 1.0, "us/op": 1e-3, "s/op": 1e3}[unit]
    torch_ms = {(r["batches"], r["rows"]): r for r in torch["rows"]}
    print(f"GPU ratios (device: {torch.get('device', 'see device.txt')})\n")
    print("| batches | rows | bytes | concatInto/DtoD (>=0.80) | concat/DtoD | vs torch.cat (>=1.0) "
          "| into vs cat(out=) | hostConcat/pinned H2D (>=0.70) |")
    print("|---|---|---|---|---|---|---|---|")
    for key in sorted(ms):
        m = ms[key]
        t = torch_ms.get(key, {})
        total = key[0] * key[1] * 768 * 4

        def ratio(base, ours):
            return f"{base / ours:.2f}" if base and ours else "n/a"

        print(f"| {key[0]} | {key[1]} | {total} | {ratio(m.get('memcpyDtoD'), m.get('deviceConcatInto'))} "
              f"| {ratio(m.get('memcpyDtoD'), m.get('deviceConcat'))} | {ratio(t.get('cat_ms'), m.get('deviceConcat'))} "
              f"| {ratio(t.get('cat_out_ms'), m.get('deviceConcatInto'))} "
              f"| {ratio(m.get('pinnedHtoD'), m.get('hostConcat'))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
