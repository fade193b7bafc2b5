#!/usr/bin/env python3
"""PyTorch timing of the epoch `fmnist bench` times, printed beside it.

Not a dependency and not run in CI: a yardstick. `cargo xtask bench` runs it
with `--torch-only` after its own measurement whenever `import torch` works.
Alone, it runs `fmnist bench` (the Rust binary, 1 thread), then, if
`import torch` works, trains the same
baseline epoch with PyTorch on 1 thread: 784-128-64-10, ReLU, dropout 0.2,
SGD lr 0.001, batch 100, shuffled, 60,000 training images gathered from u8
and normalised per batch, then an evaluation pass over the 10,000 test
images in chunks of 1,000. Both take the median over the same number of
epochs.

    python3 bench/torch_epoch.py [--epochs 3] [--fmnist target/debug/fmnist]

Run it from the repository root after `cargo build -p fmnist` and
`target/debug/fmnist fetch-data --offline` (or a normal fetch); pin it to one
core with `taskset -c 1` on a shared machine. `pip install torch` (the
default CPU wheel) makes the PyTorch half available.
"""

import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def rust_bench(binary, epochs):
    out = subprocess.run(
        [binary, "bench", "--epochs", str(epochs)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print(out, end="")
    median = float(re.search(r"median seconds per epoch\s+([0-9.]+) s", out).group(1))
    peak = float(re.search(r"\s([0-9.]+) GFLOP/s \(1 thread, candle", out).group(1))
    return median, peak


def torch_epochs(data_dir, epochs):
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(0)
    load = lambda name: torch.from_numpy(read_idx(os.path.join(data_dir, name)).copy())
    train_x = load("train-images-idx3-ubyte.gz").reshape(-1, 784)
    train_y = load("train-labels-idx1-ubyte.gz").long()
    test_x = load("t10k-images-idx3-ubyte.gz").reshape(-1, 784)
    test_y = load("t10k-labels-idx1-ubyte.gz").long()
    model = nn.Sequential(
        nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(64, 10),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    normalise = lambda xb: (xb.float() / 255.0 - 0.5) / 0.5
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        model.train()
        for idx in torch.randperm(len(train_x)).split(100):
            xb, yb = normalise(train_x[idx]), train_y[idx]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            loss.item()  # as the paper's loop reads the loss each batch
        model.eval()
        correct, total_loss = 0, 0.0
        with torch.no_grad():
            for xb, yb in zip(test_x.split(1000), test_y.split(1000)):
                logits = model(normalise(xb))
                total_loss += loss_fn(logits, yb).item() * len(yb)
                correct += (logits.argmax(1) == yb).sum().item()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), torch.__version__, correct / len(test_y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--fmnist", default="target/debug/fmnist")
    parser.add_argument("--data-dir", default="data/fashion-mnist")
    parser.add_argument("--torch-only", action="store_true",
                        help="time PyTorch only and print `torch-seconds-per-epoch S` (what `fmnist bench` reads)")
    args = parser.parse_args()

    if args.torch_only:
        torch_s, version, accuracy = torch_epochs(args.data_dir, args.epochs)
        print(f"torch-version {version}")
        print(f"torch-seconds-per-epoch {torch_s:.6f}")
        return 0
    rust, peak = rust_bench(args.fmnist, args.epochs)
    try:
        import torch  # noqa: F401
    except ImportError:
        print("\nPyTorch: not installed (pip install torch); Rust only.")
        return 0
    torch_s, version, accuracy = torch_epochs(args.data_dir, args.epochs)
    flops = 29.45e9  # the epoch's matrix-product work, as `fmnist bench` counts it
    print(f"\nPyTorch {version}, 1 thread, same epoch (val accuracy {accuracy:.3f} after {args.epochs}):")
    print(f"  median seconds per epoch      {torch_s:.3f} s")
    print(f"  achieved                      {flops / torch_s / 1e9:.1f} GFLOP/s "
          f"({100 * flops / torch_s / 1e9 / peak:.1f}% of the same run's candle matmul peak)")
    print(f"comparison: fmnist {rust:.3f} s vs PyTorch {torch_s:.3f} s per epoch "
          f"(PyTorch / fmnist = {torch_s / rust:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
