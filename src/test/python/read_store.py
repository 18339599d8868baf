#!/usr/bin/env python3
"""Read every key of an actcache store the way a numpy user would, and print it all as JSON.

Usage: python3 read_store.py STORE_DIR

Each key's file is found only through the store's manifest.json ("columns" -> key -> "file") and opened with
numpy.load(path, mmap_mode="r"). Prints one JSON object on stdout:

    {"keys": {KEY: {"file": ..., "manifestDtype": "F32", "dtype": "<f4", "shape": [...],
                    "values": [...], "bits": [...]}}}

"values" is the flat, row-major list of elements: ints for integer dtypes, true/false for BOOL, floats for
floating-point dtypes with NaN and infinities as the strings "nan", "inf" and "-inf" (JSON has no such numbers).
Floating-point keys also carry "bits", the raw IEEE bit patterns as unsigned ints, for bit-exact comparison.
numpy has no bfloat16, so a BF16 column arrives as uint16 bit patterns ("<u2"): "bits" holds them and "values"
the float32 values they encode, (bits.astype(np.uint32) << 16).view(np.float32).
"""
import json
import math
import os
import sys

import numpy as np

BITS_TYPES = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def encode_float(value):
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def read_column(store, column):
    array = np.load(os.path.join(store, column["file"]), mmap_mode="r")
    flat = np.ascontiguousarray(array).reshape(-1)
    result = {"file": column["file"], "manifestDtype": column["dtype"], "dtype": array.dtype.str,
              "shape": list(array.shape)}
    if column["dtype"] == "BF16":
        result["bits"] = flat.tolist()
        floats = (flat.astype(np.uint32) << 16).view(np.float32)
        result["values"] = [encode_float(x) for x in floats.tolist()]
    elif array.dtype.kind == "f":
        result["bits"] = flat.view(BITS_TYPES[array.dtype.itemsize]).tolist()
        result["values"] = [encode_float(x) for x in flat.tolist()]
    else:
        result["values"] = flat.tolist()
    return result


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: python3 read_store.py STORE_DIR")
    store = sys.argv[1]
    with open(os.path.join(store, "manifest.json")) as f:
        manifest = json.load(f)
    keys = {key: read_column(store, column) for key, column in manifest["columns"].items()}
    json.dump({"keys": keys}, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
