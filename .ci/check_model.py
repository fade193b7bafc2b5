"""Outside Rust: each stored model.safetensors, loaded with safetensors and run
forward in numpy on the official test images, gives the stored accuracy on
them, to the last image: the `val` rows of a run that validates on the test
set (the paper's setup), the `test` rows of one that holds a validation split
out of the training images."""
import glob
import gzip
import json
import sys

import numpy as np
import polars as pl
from safetensors.numpy import load_file

root, data = sys.argv[1], sys.argv[2]


def idx(path):
    raw = gzip.open(path).read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


images = idx(f"{data}/t10k-images-idx3-ubyte.gz").reshape(-1, 784)
labels = idx(f"{data}/t10k-labels-idx1-ubyte.gz")
metrics = pl.read_parquet(f"{root}/metrics/*.parquet")
checked = 0
for manifest_path in sorted(glob.glob(f"{root}/runs/*/manifest.json")):
    manifest = json.load(open(manifest_path))
    if manifest["status"]["kind"] != "complete":
        continue
    run_dir = manifest_path.rsplit("/", 1)[0]
    weights = load_file(f"{run_dir}/model.safetensors")
    sizes = manifest["architecture"]["layer_sizes"]
    config = manifest["config"]
    n = config.get("val_limit") or len(labels)
    x = (images[:n].astype(np.float32) / np.float32(255) - np.float32(config["input"]["mean"])) \
        / np.float32(config["input"]["std"])
    layers = len(sizes) - 1
    for i in range(layers):
        w, b = weights[f"{3 * i}.weight"], weights[f"{3 * i}.bias"]
        assert w.shape == (sizes[i + 1], sizes[i]) and b.shape == (sizes[i + 1],), (w.shape, b.shape)
        x = x @ w.T + b
        if i < layers - 1:
            x = np.maximum(x, 0)
    right = int((x.argmax(axis=1) == labels[:n]).sum())
    split = "test" if config.get("validation") else "val"
    stored = metrics.filter((pl.col("run_id") == manifest["run_id"]) & (pl.col("split") == split)) \
        .sort("epoch")["accuracy"][-1]
    assert right == round(stored * n), f"{manifest['run_id']}: numpy {right}/{n}, stored {stored * n}/{n}"
    print(f"  {manifest['experiment']:<28} seed {manifest['seed']}: numpy {right}/{n} = stored {split} accuracy {stored:.4f}")
    checked += 1
assert checked > 0, "no stored model checked"
print(f"{checked} stored models give their stored accuracy on the official test images in numpy")
