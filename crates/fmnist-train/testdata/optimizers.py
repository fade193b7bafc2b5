#!/usr/bin/env python3
"""Writes optimizers.json: five steps of SGD, Adam, AdamW and RMSprop, float64.

An independent reference for the Rust optimizers: the update rules are
written here in numpy from the algorithms PyTorch documents for
`torch.optim.SGD`, `Adam`, `AdamW` and `RMSprop` (the single-tensor,
non-foreach path; amsgrad, maximize and capturable off), and each case is
then checked against real torch.optim on float64 tensors
(`numpy.testing.assert_allclose`, relative 1e-12): the script fails rather
than write data that PyTorch disagrees with.

`params[i]` is the parameter vector after step i + 1, `grads[i]` the gradient
given at step i + 1. `torch_params` holds what PyTorch itself computed: it can
differ from `params` in the last bits, because PyTorch evaluates some
expressions in another order (`exp_avg.lerp_(grad, 1 - beta1)` for
`beta1 * m + (1 - beta1) * g`, `lr / bias_correction1` applied to m).

    pip install torch numpy
    python3 crates/fmnist-train/testdata/optimizers.py
"""

import json
import os

import numpy as np
import torch

PARAMS0 = [0.5, -0.25, 0.125, 1.5, -2.0, 0.0]
GRADS = [
    [0.1, -0.2, 0.3, -0.4, 0.5, 0.0],
    [0.05, 0.2, -0.1, -0.3, 0.45, 0.01],
    [-0.2, 0.1, 0.0, 0.6, -0.5, -0.02],
    [0.3, -0.05, 0.25, -0.1, 0.2, 0.03],
    [-0.15, 0.3, -0.2, 0.05, 0.0, -0.01],
]


def sgd(p, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    out, buf = [], None
    for g in grads:
        g = g + weight_decay * p if weight_decay else g
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
        out.append(p)
    return out


def adam(p, grads, lr, betas, eps, weight_decay, decoupled):
    b1, b2 = betas
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    out = []
    for t, g in enumerate(grads, start=1):
        if decoupled:  # AdamW: decay the parameter itself
            p = p * (1 - lr * weight_decay)
        elif weight_decay:  # Adam: L2 penalty in the gradient
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


def rmsprop(p, grads, lr, alpha, eps, weight_decay, momentum, centered):
    v = np.zeros_like(p)
    g_avg = np.zeros_like(p)
    buf = np.zeros_like(p)
    out = []
    for g in grads:
        if weight_decay:
            g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            denom = np.sqrt(v - g_avg * g_avg) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum > 0:
            buf = momentum * buf + g / denom
            p = p - lr * buf
        else:
            p = p - lr * g / denom
        out.append(p)
    return out


def torch_steps(kind, settings):
    p = torch.nn.Parameter(torch.tensor(PARAMS0, dtype=torch.float64))
    s = dict(settings)
    if "betas" in s:
        s["betas"] = tuple(s["betas"])
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam,
           "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}[kind]
    opt = cls([p], foreach=False, **s)
    out = []
    for g in GRADS:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def numpy_steps(kind, s):
    p0 = np.array(PARAMS0, dtype=np.float64)
    grads = [np.array(g, dtype=np.float64) for g in GRADS]
    if kind == "sgd":
        return sgd(p0, grads, s["lr"], s["momentum"], s["dampening"], s["weight_decay"], s["nesterov"])
    if kind in ("adam", "adamw"):
        return adam(p0, grads, s["lr"], s["betas"], s["eps"], s["weight_decay"], kind == "adamw")
    return rmsprop(p0, grads, s["lr"], s["alpha"], s["eps"], s["weight_decay"], s["momentum"], s["centered"])


def cases():
    sgd_ = lambda lr, momentum=0.0, dampening=0.0, wd=0.0, nesterov=False: {
        "lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": wd, "nesterov": nesterov}
    adam_ = lambda lr, wd: {"lr": lr, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": wd}
    rms = lambda lr, wd=0.0, momentum=0.0, centered=False: {
        "lr": lr, "alpha": 0.99, "eps": 1e-8, "weight_decay": wd, "momentum": momentum, "centered": centered}
    yield "sgd lr 0.1", "sgd", sgd_(0.1)
    yield "sgd lr 0.1 momentum 0.9", "sgd", sgd_(0.1, 0.9)
    yield "sgd lr 0.01 momentum 0.9 nesterov weight_decay 0.01", "sgd", sgd_(0.01, 0.9, 0.0, 0.01, True)
    yield "sgd lr 0.05 momentum 0.5 dampening 0.1", "sgd", sgd_(0.05, 0.5, 0.1)
    yield "adam lr 0.001", "adam", adam_(1e-3, 0.0)
    yield "adam lr 0.01 weight_decay 0.01", "adam", adam_(1e-2, 0.01)
    for lr in (1e-3, 1e-2):
        for wd in (0.01, 0.1):
            yield f"adamw lr {lr:g} weight_decay {wd:g}", "adamw", adam_(lr, wd)
    for lr in (1e-3, 1e-2):
        yield f"rmsprop lr {lr:g}", "rmsprop", rms(lr)
        yield f"rmsprop lr {lr:g} weight_decay 0.01", "rmsprop", rms(lr, wd=0.01)
        yield f"rmsprop lr {lr:g} momentum 0.9", "rmsprop", rms(lr, momentum=0.9)
        yield f"rmsprop lr {lr:g} centered", "rmsprop", rms(lr, centered=True)
        yield f"rmsprop lr {lr:g} centered momentum 0.9", "rmsprop", rms(lr, momentum=0.9, centered=True)


def main():
    out = []
    for name, kind, settings in cases():
        ours = numpy_steps(kind, settings)
        theirs = torch_steps(kind, settings)
        for step, (a, b) in enumerate(zip(ours, theirs), start=1):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15, err_msg=f"{name}, step {step}")
        worst = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs))
        print(f"{name:55s} numpy vs torch: largest difference {worst:.1e}")
        out.append({
            "name": name,
            "kind": kind,
            "settings": settings,
            "params0": PARAMS0,
            "grads": GRADS,
            "params": [p.tolist() for p in ours],
            "torch_params": [p.tolist() for p in theirs],
        })
    doc = {
        "about": "five float64 optimizer steps, numpy from PyTorch's documented algorithms, "
                 "checked against torch.optim (foreach=False); made by optimizers.py",
        "torch": torch.__version__,
        "cases": out,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizers.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
