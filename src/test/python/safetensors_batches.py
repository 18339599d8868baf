"""Interop check helper: writes batch files with the real safetensors library and checks actcache's exports.

    python3 safetensors_batches.py write DIR BATCHES      writes DIR/batch_0.safetensors ... as a hook loop would
    python3 safetensors_batches.py check EXPORT BATCHES   reads an actcache safetensors export (sharded or not)
                                                          and compares it, value for value, with the batches
Prints OK and exits 0 when everything matches; raises otherwise.
"""
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file, save_file

LAYERS = 3
DTYPES = {"blocks.%d.hook_resid_post": np.float32, "blocks.%d.attn.hook_z": np.float16}


def batch(index):
    """One batch cache, deterministic per index: rows differ per batch, every dtype path exercised."""
    rng = np.random.default_rng(1234 + index)
    tensors = {}
    for layer in range(LAYERS):
        tensors["blocks.%d.hook_resid_post" % layer] = rng.standard_normal((2, 5, 8), dtype=np.float32)
        tensors["blocks.%d.attn.hook_z" % layer] = rng.standard_normal((2, 5, 2, 4)).astype(np.float16)
    tensors["input_ids"] = rng.integers(0, 50257, size=(2, 5), dtype=np.int64)
    return tensors


def write(directory, batches):
    os.makedirs(directory, exist_ok=True)
    for index in range(batches):
        save_file(batch(index), os.path.join(directory, "batch_%d.safetensors" % index),
                  metadata={"model": "gpt2-tiny", "n_layers": str(LAYERS)})
    print("OK")


def load_export(directory):
    index_file = os.path.join(directory, "model.safetensors.index.json")
    if not os.path.exists(index_file):
        return load_file(os.path.join(directory, "model.safetensors"))
    with open(index_file) as f:
        index = json.load(f)
    tensors = {}
    for shard in sorted(set(index["weight_map"].values())):
        tensors.update(load_file(os.path.join(directory, shard)))
    assert set(tensors) == set(index["weight_map"]), "index and shards disagree"
    total = sum(t.nbytes for t in tensors.values())
    assert index["metadata"]["total_size"] == total, (index["metadata"], total)
    return tensors


def check(directory, batches):
    exported = load_export(directory)
    expected = [batch(i) for i in range(batches)]
    for key in expected[0]:
        if key == "input_ids":  # kept as a list of batches by the default registry: input_ids[0], input_ids[1], ...
            for i in range(batches):
                got = exported.pop("input_ids[%d]" % i)
                assert got.dtype == np.int64 and np.array_equal(got, expected[i][key]), key
            continue
        want = np.concatenate([b[key] for b in expected])
        got = exported.pop(key)
        assert got.dtype == want.dtype and got.shape == want.shape, (key, got.dtype, got.shape, want.shape)
        assert got.tobytes() == want.tobytes(), "values differ for " + key
    assert not exported, "unexpected tensors: %s" % sorted(exported)
    print("OK")


if __name__ == "__main__":
    command, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"write": write, "check": check}[command](path, count)
