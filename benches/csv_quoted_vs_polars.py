#!/usr/bin/env python3
"""Side-by-side timing of CSV -> History (churnwise) and read_csv + group_by
(polars) on a 10 M-row orders file whose every row has a quoted field, and on
the same file unquoted. Run by hand; nothing is written inside the repository.

    cargo build --release --example read_transactions
    python benches/csv_quoted_vs_polars.py target/release/examples/read_transactions [--runs 5] [--rows 10000000]
    python benches/csv_quoted_vs_polars.py before=/path/to/old/read_transactions after=target/release/examples/read_transactions

Needs Python 3 with numpy and polars (`pip install numpy polars`). The data go
to $CSV_PERF_DATA (default /tmp/csv-perf/data) and are reused when present:

  orders_quoted_<rows>.csv    customer_id,name,date,amount; name is "Last, First"
                              (always quoted: it holds the delimiter; 1 row in 100
                              also holds a nickname in doubled quotes: ""Nick"")
  orders_unquoted_<rows>.csv  the same rows with name as Last First (no quotes)

Rows: 1 M customers (ids a random permutation), dates sorted over
2023-01-01..2024-12-31, amounts lognormal with two decimals; seed fixed.
churnwise is timed by the example's own clock (read + build, in process);
polars by perf_counter around read_csv + group_by (in process), runs
interleaved. Medians and minima are printed with the ratios, and the median
CPU seconds (churnwise: the whole process, so also its 5 RFM runs).
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import time

import numpy as np
import polars as pl

DATA = os.environ.get("CSV_PERF_DATA", "/tmp/csv-perf/data")
LAST = ["Smith", "Jones", "Garcia", "Miller", "Davis", "Martinez", "Lopez", "Wilson", "Anderson", "Taylor",
        "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis"]
FIRST = ["Ann", "Bob", "Carla", "Dmitri", "Eve", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kofi", "Lena",
         "Mia", "Noor", "Olga", "Pablo"]


def generate(rows, customers, seed=20261205):
    rng = np.random.default_rng(seed)
    ids = rng.permutation(customers)[rng.integers(0, customers, rows)] + 1
    days = np.sort(rng.integers(0, 731, rows))
    dates = np.datetime64("2023-01-01") + days.astype("timedelta64[D]")
    amount = np.round(np.exp(rng.normal(3.4, 0.7, rows)), 2)
    last = np.array(LAST)[rng.integers(0, len(LAST), rows)]
    first = np.array(FIRST)[rng.integers(0, len(FIRST), rows)]
    nick = rng.random(rows) < 0.01
    base = pl.DataFrame({"customer_id": ids, "last": last, "first": first, "nick": nick,
                         "date": dates, "amount": amount})
    quoted = base.select(
        "customer_id",
        pl.when(pl.col("nick"))
        .then(pl.concat_str([pl.col("last"), pl.lit(", "), pl.col("first"), pl.lit(' "Nick"')]))
        .otherwise(pl.concat_str([pl.col("last"), pl.lit(", "), pl.col("first")]))
        .alias("name"),
        pl.col("date").cast(pl.Date),
        "amount",
    )
    plain = quoted.with_columns(pl.col("name").str.replace_all('[,"]', ""))
    return quoted, plain


def ensure(rows):
    os.makedirs(DATA, exist_ok=True)
    paths = {k: os.path.join(DATA, f"orders_{k}_{rows}.csv") for k in ("quoted", "unquoted")}
    if not all(os.path.exists(p) for p in paths.values()):
        quoted, plain = generate(rows, max(rows // 10, 1))
        quoted.write_csv(paths["quoted"], float_precision=2)
        plain.write_csv(paths["unquoted"], float_precision=2)
    return paths


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def churnwise(binary, path):
    """Read + build seconds by the example's clock, and the process's CPU seconds
    (which also include its 5 RFM runs after the build)."""
    cpu = children_cpu()
    out = subprocess.run([binary, path], check=True, capture_output=True, text=True).stdout
    m = re.search(r"rows (\d+): read ([\d.]+) s, build ([\d.]+) s, total ([\d.]+) s", out)
    return float(m.group(4)), int(m.group(1)), children_cpu() - cpu


SCHEMA = {"customer_id": pl.Int64, "name": pl.String, "date": pl.Date, "amount": pl.Float64}


def polars_rfm(path, project):
    start, cpu = time.perf_counter(), time.process_time()
    cols = ["customer_id", "date", "amount"] if project else None
    df = pl.read_csv(path, schema=SCHEMA, columns=cols)
    g = df.group_by("customer_id").agg(
        pl.col("date").min().alias("first_purchase"),
        pl.col("date").max().alias("last_purchase"),
        pl.len().alias("frequency"),
        pl.col("amount").sum().alias("monetary_sum"),
    )
    return time.perf_counter() - start, int(g["frequency"].sum()), time.process_time() - cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binaries", nargs="+", metavar="[LABEL=]BINARY",
                    help="the read_transactions example, e.g. target/release/examples/read_transactions")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--only", choices=["quoted", "unquoted"])
    a = ap.parse_args()
    paths = ensure(a.rows)
    kinds = [a.only] if a.only else ["unquoted", "quoted"]
    binaries = [b.split("=", 1) if "=" in b else ["churnwise", b] for b in a.binaries]
    who = [f"churnwise {label}" if len(binaries) > 1 else "churnwise" for label, _ in binaries]
    who += ["polars", "polars projected"]
    times = {(k, w): [] for k in kinds for w in who}
    cpus = {(k, w): [] for k in kinds for w in who}
    for _ in range(a.runs):
        for k in kinds:
            for (_, binary), w in zip(binaries, who):
                t, n, c = churnwise(binary, paths[k])
                assert n == a.rows, n
                times[(k, w)].append(t)
                cpus[(k, w)].append(c)
            for w, project in (("polars", False), ("polars projected", True)):
                t, n, c = polars_rfm(paths[k], project)
                assert n == a.rows, n
                times[(k, w)].append(t)
                cpus[(k, w)].append(c)
    print(f"polars {pl.__version__}, {pl.thread_pool_size()} threads, {a.runs} runs interleaved; "
          f"load average at the end: {os.getloadavg()[0]:.1f}; seconds: median (min)")
    for k in kinds:
        size = os.path.getsize(paths[k]) / 1e6
        med = {w: statistics.median(times[(k, w)]) for w in who}
        low = {w: min(times[(k, w)]) for w in who}
        print(f"{k} ({size:.0f} MB):")
        for w in who:
            line = f"  {w:22} {med[w]:.3f} ({low[w]:.3f}); CPU {statistics.median(cpus[(k, w)]):.2f}"
            if w.startswith("churnwise"):
                line += (f"  ratio to polars {med[w] / med['polars']:.2f}, "
                         f"to polars projected {med[w] / med['polars projected']:.2f}")
            print(line)


if __name__ == "__main__":
    main()
