#!/usr/bin/env python3
"""Writes schedules.json: 30 epochs of learning rates from PyTorch's own schedulers.

The Rust `LrScheduler` (src/schedule.rs) is tested against this table rate for
rate, bit for bit (the `bits` fields are the IEEE-754 doubles as hex).

Each case runs real `torch.optim.lr_scheduler` objects on a dummy parameter
with `torch.optim.SGD` at the case's base rate, stepped once per epoch after
training as the trainer does, so `lrs[k-1]` is the rate epoch k trains with.
A case's `schedule` is written in the JSON form of
`fmnist_experiments::ScheduleConfig`, so the test reads it as the run would.

Warmup is `SequentialLR([LinearLR(start_factor, total_iters=w), main],
milestones=[w])`. The constant kind's `main` is `ConstantLR(factor=1.0,
total_iters=0)` (the rate stays the base rate). PyTorch's SequentialLR refuses
ReduceLROnPlateau (its step needs the metric), so for plateau the script
composes them as SequentialLR does the others: LinearLR for the steps before
the milestone, at the milestone the rate returns to the base rate (the next
scheduler's epoch 0, which is ReduceLROnPlateau's construction state; that
step's metric is not shown to it), and after it ReduceLROnPlateau.step(metric).

The metrics fed to the plateau schedules are recorded below (VAL_LOSSES):
improvements, improvements smaller than the relative threshold 1e-4 (which
do not count), a plateau of 11 epochs (so the default patience of 10
reduces once) and a late rise.

    pip install torch
    python3 crates/fmnist-train/testdata/make_schedules.py
"""

import json
import math
import os
import struct
import warnings

import torch
from torch.optim import lr_scheduler as S

EPOCHS = 30
BASE_LRS = [0.1, 0.001]

# A recorded-looking validation loss sequence, epoch 1 first.
VAL_LOSSES = [
    0.90, 0.70, 0.60, 0.55, 0.52, 0.50, 0.495, 0.49,
    # epochs 9-19: no improvement by more than 1e-4 relative (0.48999 is
    # lower than 0.49 but only by 2e-5 relative)
    0.49004, 0.48999, 0.4900, 0.48996, 0.491, 0.4901, 0.48998, 0.4902, 0.48997, 0.4905, 0.48999,
    # epochs 20-22 improve, then a flat stretch and a rise
    0.47, 0.469, 0.4689, 0.46889, 0.4689, 0.46895, 0.4688, 0.471, 0.475, 0.48, 0.49,
]
assert len(VAL_LOSSES) == EPOCHS
VAL_ACCURACIES = [round(1.0 - v * 0.3, 6) for v in VAL_LOSSES]

PLATEAU_DEFAULTS = {
    "mode": "min", "factor": 0.1, "patience": 10, "threshold": 1e-4,
    "threshold_mode": "rel", "cooldown": 0, "min_lr": 0.0, "eps": 1e-8,
}


def bits(x):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def main_kinds(base):
    """(name, schedule JSON without warmup, metrics or None, constructor)."""
    p = PLATEAU_DEFAULTS
    fast = dict(p, factor=0.5, patience=2, cooldown=1)
    floor = dict(p, factor=0.5, patience=1, min_lr=base * 0.2)
    tiny = dict(p, patience=0, eps=base * 0.5)
    maxabs = dict(p, mode="max", threshold_mode="abs", threshold=1e-3, patience=2)
    plateau = lambda cfg: (lambda opt: S.ReduceLROnPlateau(opt, **cfg))
    return [
        ("constant", {"kind": "constant"}, None,
         lambda opt: S.ConstantLR(opt, factor=1.0, total_iters=0)),
        ("step", {"kind": "step", "step_size": 10, "gamma": 0.1}, None,
         lambda opt: S.StepLR(opt, step_size=10, gamma=0.1)),
        ("step7-half", {"kind": "step", "step_size": 7, "gamma": 0.5}, None,
         lambda opt: S.StepLR(opt, step_size=7, gamma=0.5)),
        ("multistep", {"kind": "multistep", "milestones": [10, 20], "gamma": 0.1}, None,
         lambda opt: S.MultiStepLR(opt, milestones=[10, 20], gamma=0.1)),
        ("multistep-repeated", {"kind": "multistep", "milestones": [5, 15, 15], "gamma": 0.3}, None,
         lambda opt: S.MultiStepLR(opt, milestones=[5, 15, 15], gamma=0.3)),
        ("exponential", {"kind": "exponential", "gamma": 0.9}, None,
         lambda opt: S.ExponentialLR(opt, gamma=0.9)),
        ("cosine", {"kind": "cosine", "t_max": 30, "eta_min": 0.0}, None,
         lambda opt: S.CosineAnnealingLR(opt, T_max=30)),
        ("cosine-eta-min", {"kind": "cosine", "t_max": 30, "eta_min": base / 50}, None,
         lambda opt: S.CosineAnnealingLR(opt, T_max=30, eta_min=base / 50)),
        # Past T_max the rate rises again (PyTorch's recursive form).
        ("cosine-short", {"kind": "cosine", "t_max": 12, "eta_min": base / 10}, None,
         lambda opt: S.CosineAnnealingLR(opt, T_max=12, eta_min=base / 10)),
        ("plateau", dict({"kind": "plateau"}, **p), VAL_LOSSES, plateau(p)),
        ("plateau-fast", dict({"kind": "plateau"}, **fast), VAL_LOSSES, plateau(fast)),
        ("plateau-min-lr", dict({"kind": "plateau"}, **floor), VAL_LOSSES, plateau(floor)),
        ("plateau-eps", dict({"kind": "plateau"}, **tiny), VAL_LOSSES, plateau(tiny)),
        ("plateau-max-abs", dict({"kind": "plateau"}, **maxabs), VAL_ACCURACIES, plateau(maxabs)),
    ]


def run_case(base, make_main, metrics, warmup):
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = torch.optim.SGD([param], lr=base)
    is_plateau = metrics is not None
    if warmup is None:
        sched = make_main(opt)
        linear = None
    else:
        w, start = warmup
        linear = S.LinearLR(opt, start_factor=start, total_iters=w)
        main = make_main(opt)
        sched = None if is_plateau else S.SequentialLR(opt, [linear, main], milestones=[w])
        if is_plateau:
            # ReduceLROnPlateau leaves the rate alone at construction, so the
            # optimizer holds LinearLR's first rate, as SequentialLR would.
            sched = main
    lrs = []
    for epoch in range(1, EPOCHS + 1):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()  # the epoch's training (a zero gradient: nothing moves)
        if not is_plateau:
            sched.step()
        elif warmup is None or epoch > warmup[0]:
            sched.step(metrics[epoch - 1])
        elif epoch < warmup[0]:
            linear.step()
        else:  # the milestone: the next scheduler's epoch 0
            opt.param_groups[0]["lr"] = opt.param_groups[0]["initial_lr"]
    return lrs


def main():
    warnings.simplefilter("ignore")  # SequentialLR's epoch-argument deprecation
    torch.set_default_dtype(torch.float64)
    cases = []
    for base in BASE_LRS:
        for name, schedule, metrics, make in main_kinds(base):
            for warmup in [None, (2, 0.1), (2, 1.0 / 3)]:
                sched = dict(schedule)
                label = name
                if warmup is not None:
                    sched["warmup"] = {"warmup_epochs": warmup[0], "start_factor": warmup[1]}
                    label += f"+warmup{warmup[0]}@{warmup[1]:.3g}"
                lrs = run_case(base, make, metrics, warmup)
                cases.append({
                    "name": f"{label} lr={base}",
                    "base_lr": base,
                    "schedule": sched,
                    "metrics": metrics,
                    "lrs": lrs,
                    "bits": [bits(x) for x in lrs],
                })
    out = {
        "about": "learning rate of epochs 1..30 from torch.optim.lr_scheduler; made by make_schedules.py",
        "torch": torch.__version__,
        "epochs": EPOCHS,
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedules.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for c in cases:
        changes = sum(1 for a, b in zip(c["lrs"], c["lrs"][1:]) if a != b)
        print(f"{c['name']:45s} changes {changes:2d}  last {c['lrs'][-1]:.6g}")


if __name__ == "__main__":
    main()
