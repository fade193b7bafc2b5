#!/usr/bin/env python3
"""An independent simulation of the seed designs of fmnist-stats (module
`design`), written from their stated rules with numpy, scipy and
statsmodels, for the crate's own simulation to be compared with.

Run from anywhere: `python3 simulate_designs.py` rewrites design_rates.json
beside this script; the unit tests of src/simulate.rs compare their rates
with these within Monte-Carlo error (different generators, same design).

Null at the boundary of `> 0`: the true difference is 0, normal noise of sd
0.004 (paired: a seed effect shared by both sides plus noise on each).

- Two-stage: the pilot's 3 seeds tested with the 99% interval (alpha_pilot
  = 0.01 on the two-sided scale); holds if lo > 0, fails if hi <= 0, else n
  new seeds, the smallest in 2..30 with power >= 0.8 for the one-sided test
  at 0.02 (statsmodels TTestPower at the pilot's standardised effect), none
  when 30 fall short; the n new seeds alone tested with the 96% interval.
- Reuse the pilot (the old --decide): the pilot tested with the 95%
  interval; if undecided, n in all = the smallest in 2..10 whose power by
  the shifted central t, 1 - T_{n-1}(t_{0.975, n-1} - d sqrt(n)), is >= 0.8,
  else 10 (and at least 3); the n seeds, the pilot's included, tested with
  the 95% interval.
"""

import json
import pathlib

import numpy as np
import scipy
import statsmodels
from scipy import optimize, stats
from statsmodels.stats.power import TTestPower

OUT = pathlib.Path(__file__).with_name("design_rates.json")
SIMS = 20_000
SD = 0.004


def draws(rng, kind, sims, n):
    """Per-seed differences the test sees, shape (sims, n)."""
    if kind == "one-sample":
        return SD * rng.standard_normal((sims, n))
    u = SD * rng.standard_normal((sims, n))
    a = 0.8 + u + SD * rng.standard_normal((sims, n))
    b = 0.8 + u + SD * rng.standard_normal((sims, n))
    return a - b


def interval(x, level):
    n = x.shape[1]
    m, s = x.mean(axis=1), x.std(axis=1, ddof=1)
    h = stats.t.ppf(0.5 + level / 2, n - 1) * s / np.sqrt(n)
    return m - h, m + h, np.abs(m) / s


def nct_thresholds(max_n, alpha_one_sided):
    """d_n: the standardised effect at which n seeds reach power 0.8."""
    tp = TTestPower()
    out = {}
    for n in range(2, max_n + 1):
        f = lambda d: tp.power(effect_size=d, nobs=n, alpha=alpha_one_sided,
                               alternative="larger") - 0.8
        out[n] = optimize.brentq(f, 1e-6, 1e3, xtol=1e-14)
    return out


def two_stage(rng, kind):
    pilot = draws(rng, kind, SIMS, 3)
    lo, hi, d = interval(pilot, 0.99)
    holds = lo > 0
    undecided = ~holds & ~(hi <= 0)
    thresholds = nct_thresholds(30, 0.02)
    n_new = np.zeros(SIMS, dtype=int)
    for n in range(30, 1, -1):
        n_new[undecided & (d >= thresholds[n])] = n
    for n in range(2, 31):
        idx = np.nonzero(n_new == n)[0]
        if idx.size:
            lo2, _, _ = interval(draws(rng, kind, idx.size, n), 0.96)
            holds[idx] = lo2 > 0
    return int(holds.sum())


def reuse_pilot(rng, kind):
    pilot = draws(rng, kind, SIMS, 3)
    lo, hi, d = interval(pilot, 0.95)
    holds = lo > 0
    undecided = ~holds & ~(hi <= 0)
    total = np.full(SIMS, 10)
    for n in range(10, 1, -1):
        crit = stats.t.ppf(0.975, n - 1)
        # Power 1 - T(crit - d sqrt(n)) >= 0.8  <=>  d >= (crit - T^-1(0.2)) / sqrt(n).
        total[d >= (crit - stats.t.ppf(0.2, n - 1)) / np.sqrt(n)] = n
    total = np.maximum(total, 3)
    for n in range(3, 11):
        idx = np.nonzero(undecided & (total == n))[0]
        if idx.size:
            more = draws(rng, kind, idx.size, n - 3)
            lo2, _, _ = interval(np.concatenate([pilot[idx], more], axis=1), 0.95)
            holds[idx] = lo2 > 0
    return int(holds.sum())


def main():
    rng = np.random.default_rng(29)
    data = {"generator": f"simulate_designs.py with numpy {np.__version__}, scipy "
                         f"{scipy.__version__}, statsmodels {statsmodels.__version__}",
            "sims": SIMS, "sd": SD}
    for name, design in [("two_stage", two_stage), ("reuse_pilot", reuse_pilot)]:
        data[name] = {}
        for kind in ["one-sample", "paired"]:
            k = design(rng, kind)
            data[name][kind] = {"false_holds": k, "rate": k / SIMS}
            print(name, kind, k / SIMS)
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
