#!/usr/bin/env python3
"""An independent PyTorch implementation of this project's training, for comparison.

Not a dependency and not run in CI: a yardstick for the Rust trainer. It
trains the paper's network (784-128-64-10, ReLU, dropout 0.2 after each
hidden layer, cross-entropy) on the real Fashion-MNIST files with PyTorch's
own initialisation and random number generator (`torch.manual_seed(seed)`),
batch 100, 30 epochs, inputs (pixel/255 - 0.5)/0.5, the 60,000 training
images reshuffled every epoch (the last partial batch kept), the 10,000 test
images as the validation set. The Rust trainer draws its random numbers from
its own ChaCha8 streams, so the two agree in distribution, not run for run:
compare means over seeds (the issues ask for 1.5 percentage points).

    python3 bench/torch_reference.py --optimizer adamw --lr 0.001 --seeds 0,1,2
    python3 bench/torch_reference.py --optimizer sgd --lr 0.1 --schedule cosine --t-max 30
    python3 bench/torch_reference.py --optimizer sgd --lr 0.1 --schedule step --step-size 10
    python3 bench/torch_reference.py --optimizer sgd --lr 0.1 --schedule plateau --warmup-epochs 2

It prints one JSON line per seed ({"seed", "final_val_accuracy", ...}) and a
last line with the mean over seeds. Optimizer settings left out take
PyTorch's defaults (AdamW weight_decay 0.01, RMSprop alpha 0.99...).
`pip install torch numpy` makes it runnable; `--threads 1` (the default) and
`nice -n 10` keep it polite on a shared machine.
"""

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np

DATA_DIRS = ["/usr/share/datasets/fashion-mnist", "data/fashion-mnist"]
FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "val_images": "t10k-images-idx3-ubyte.gz",
    "val_labels": "t10k-labels-idx1-ubyte.gz",
}


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find_data(explicit):
    for d in [explicit] if explicit else DATA_DIRS:
        if d and all(os.path.exists(os.path.join(d, f)) for f in FILES.values()):
            return d
    sys.exit(f"no Fashion-MNIST files ({', '.join(FILES.values())}) in {explicit or DATA_DIRS}")


def load(data_dir, torch):
    """Images as float32 (pixel/255 - 0.5)/0.5, flattened; labels as int64."""
    out = {}
    for key, name in FILES.items():
        raw = read_idx(os.path.join(data_dir, name))
        if key.endswith("images"):
            x = torch.from_numpy(raw.reshape(raw.shape[0], -1).astype(np.float32))
            out[key] = (x / 255.0 - 0.5) / 0.5
        else:
            out[key] = torch.from_numpy(raw.astype(np.int64))
    return out


def make_optimizer(args, params, torch):
    kw = {"lr": args.lr}
    if args.weight_decay is not None:
        kw["weight_decay"] = args.weight_decay
    if args.optimizer in ("sgd", "rmsprop") and args.momentum is not None:
        kw["momentum"] = args.momentum
    if args.optimizer in ("adam", "adamw"):
        if args.betas is not None:
            kw["betas"] = tuple(float(b) for b in args.betas.split(","))
        if args.eps is not None:
            kw["eps"] = args.eps
    if args.optimizer == "rmsprop":
        if args.alpha is not None:
            kw["alpha"] = args.alpha
        if args.eps is not None:
            kw["eps"] = args.eps
        kw["centered"] = args.centered
    cls = {
        "sgd": torch.optim.SGD,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "rmsprop": torch.optim.RMSprop,
    }[args.optimizer]
    return cls(params, **kw)


def make_scheduler(args, opt, torch):
    """(scheduler or None, plateau or None): the schedule, stepped once per epoch.

    A warmup is SequentialLR([LinearLR, main], milestones=[w]), as the Rust
    LrScheduler composes them; SequentialLR refuses ReduceLROnPlateau, so a
    plateau after a warmup is driven by `step_schedule` below the same way.
    """
    s = torch.optim.lr_scheduler
    linear = None
    if args.warmup_epochs:
        linear = s.LinearLR(opt, start_factor=args.warmup_start_factor, total_iters=args.warmup_epochs)
    main = make_main(args, opt, torch)
    if linear is None:
        return (None, main) if args.schedule == "plateau" else (main, None)
    if args.schedule == "plateau":
        return linear, main
    return s.SequentialLR(opt, [linear, main], milestones=[args.warmup_epochs]), None


def step_schedule(args, sched, plateau, opt, epoch, val_loss):
    """After epoch `epoch` (from 1)."""
    w = args.warmup_epochs
    if plateau is None:
        if sched is not None:
            sched.step()
    elif not w or epoch > w:
        plateau.step(val_loss)
    elif epoch < w:
        sched.step()  # LinearLR
    else:  # the milestone: the plateau rule's epoch 0, at the base rate
        opt.param_groups[0]["lr"] = opt.param_groups[0]["initial_lr"]


def make_main(args, opt, torch):
    s = torch.optim.lr_scheduler
    if args.schedule == "constant":
        return s.ConstantLR(opt, factor=1.0, total_iters=0) if args.warmup_epochs else None
    if args.schedule == "step":
        return s.StepLR(opt, step_size=args.step_size, gamma=args.gamma)
    if args.schedule == "multistep":
        milestones = [int(m) for m in args.milestones.split(",")]
        return s.MultiStepLR(opt, milestones=milestones, gamma=args.gamma)
    if args.schedule == "exponential":
        return s.ExponentialLR(opt, gamma=args.gamma)
    if args.schedule == "cosine":
        return s.CosineAnnealingLR(opt, T_max=args.t_max or args.epochs, eta_min=args.eta_min)
    if args.schedule == "plateau":
        return s.ReduceLROnPlateau(opt)
    sys.exit(f"unknown schedule {args.schedule}")


def evaluate(model, x, y, torch):
    model.eval()
    with torch.no_grad():
        logits = torch.cat([model(x[i : i + 1000]) for i in range(0, len(x), 1000)])
        loss = torch.nn.functional.cross_entropy(logits, y).item()
        acc = (logits.argmax(1) == y).double().mean().item()
    model.train()
    return loss, acc


def train_seed(args, data, seed, torch):
    from torch import nn

    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(784, 128), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(64, 10),
    )
    opt = make_optimizer(args, model.parameters(), torch)
    sched, plateau = make_scheduler(args, opt, torch)
    loss_fn = nn.CrossEntropyLoss()
    x, y = data["train_images"], data["train_labels"]
    n = len(x)
    history = []
    for epoch in range(1, args.epochs + 1):
        lr = opt.param_groups[0]["lr"]
        order = torch.randperm(n)
        for i in range(0, n, args.batch_size):
            idx = order[i : i + args.batch_size]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        val_loss, val_acc = evaluate(model, data["val_images"], data["val_labels"], torch)
        history.append({"epoch": epoch, "lr": lr, "val_loss": val_loss, "val_accuracy": val_acc})
        step_schedule(args, sched, plateau, opt, epoch, val_loss)
    return history


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop"], default="sgd")
    p.add_argument("--lr", type=float, default=0.001)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--momentum", type=float)
    p.add_argument("--betas", help="e.g. 0.9,0.999")
    p.add_argument("--eps", type=float)
    p.add_argument("--alpha", type=float)
    p.add_argument("--centered", action="store_true")
    p.add_argument("--schedule", default="constant",
                   choices=["constant", "step", "multistep", "exponential", "cosine", "plateau"])
    p.add_argument("--step-size", type=int, default=10)
    p.add_argument("--milestones", default="10,20")
    p.add_argument("--gamma", type=float, default=0.1)
    p.add_argument("--t-max", type=int, help="CosineAnnealingLR T_max (default: the epochs)")
    p.add_argument("--eta-min", type=float, default=0.0)
    p.add_argument("--warmup-epochs", type=int, default=0)
    p.add_argument("--warmup-start-factor", type=float, default=1.0 / 3)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--data-dir")
    p.add_argument("--history", action="store_true", help="also print every epoch")
    args = p.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    data = load(find_data(args.data_dir), torch)
    config = {k: v for k, v in vars(args).items() if k not in ("seeds", "history", "data_dir")}
    finals = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        start = time.time()
        history = train_seed(args, data, seed, torch)
        last = history[-1]
        finals.append(last["val_accuracy"])
        line = {
            "config": config,
            "seed": seed,
            "final_val_accuracy": last["val_accuracy"],
            "final_val_loss": last["val_loss"],
            "best_val_accuracy": max(h["val_accuracy"] for h in history),
            "seconds": round(time.time() - start, 1),
            "torch": torch.__version__,
        }
        if args.history:
            line["history"] = history
        print(json.dumps(line), flush=True)
    print(json.dumps({
        "config": config,
        "seeds": args.seeds,
        "mean_final_val_accuracy": sum(finals) / len(finals),
        "final_val_accuracies": finals,
    }), flush=True)


if __name__ == "__main__":
    main()
