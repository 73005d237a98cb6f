"""Side-by-side anchor for benches/association.rs: mlxtend's fpgrowth on the
same synthetic transactions (generated identically, SplitMix64-based).

    /tmp/perf-work/venv/bin/python benches/association_vs_mlxtend.py 1000000 0.01

Prints the number of frequent itemsets and the median fpgrowth time (the
one-hot DataFrame is built outside the timing, as churnwise's Transactions are).
"""
import sys
import time

import numpy as np
import pandas as pd
from mlxtend.frequent_patterns import fpgrowth

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
ITEMS = 100
SEED = np.uint64(0x5EED)


def mix64(z):
    z = z.copy()
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= np.uint64(0xBF58476D1CE4E5B9)
        z ^= z >> np.uint64(27)
        z *= np.uint64(0x94D049BB133111EB)
        z ^= z >> np.uint64(31)
    return z


def uniform(i, j):
    """u(i, j) in [0, 1): customer i, slot j."""
    with np.errstate(over="ignore"):
        z = SEED + i.astype(np.uint64) * np.uint64(1024) + np.uint64(j)
    return (mix64(z) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def base_p():
    return np.minimum(0.9, 1.1 * (np.arange(ITEMS) + 1.0) ** -0.6)


def generate(n):
    i = np.arange(n, dtype=np.uint64)
    group = np.floor(uniform(i, 1023) * 3).astype(np.int64)
    p = base_p()
    x = np.zeros((n, ITEMS + 1), dtype=bool)
    for j in range(ITEMS):
        mult = np.where(group == j % 3, 1.5, 0.75)
        x[:, j] = uniform(i, j) < np.minimum(0.95, p[j] * mult)
    churn_p = 0.05 + 0.25 * x[:, 3] + 0.2 * (x[:, 7] & x[:, 11])
    x[:, ITEMS] = uniform(i, 1000) < churn_p
    cols = [f"i{j:03}" for j in range(ITEMS)] + ["churned"]
    return pd.DataFrame(x, columns=cols)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    s = float(sys.argv[2]) if len(sys.argv) > 2 else 0.01
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    df = generate(n)
    print(f"n={n} items/customer={df.values.sum() / n:.2f} total={int(df.values.sum())}")
    times, cpus = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        sets = fpgrowth(df, min_support=s)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    print(f"mlxtend fpgrowth min_support={s}: {len(sets)} itemsets, "
          f"median {np.median(times):.3f} s wall, {np.median(cpus):.3f} s CPU "
          f"(runs {', '.join(f'{t:.3f}' for t in times)})")


if __name__ == "__main__":
    main()
