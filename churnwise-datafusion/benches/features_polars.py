"""polars group_by anchor for churnwise-datafusion's features bench: the same
15 order features from the same Parquet files (read + join + filter + group_by)."""
import sys, time, statistics
from datetime import datetime, timezone
import polars as pl

d = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
asof = datetime(2024, 7, 1, tzinfo=timezone.utc)
DAY = 86_400_000_000

def query():
    o = pl.scan_parquet(f"{d}/orders/*.parquet")
    c = pl.scan_parquet(f"{d}/customers.parquet")
    age = (pl.lit(asof) - pl.col("time")).dt.total_microseconds()
    p = pl.col("amount") >= 0
    aggs = [
        (age.min() / DAY).alias("recency_days"),
        ((pl.lit(asof) - pl.col("signup").first()).dt.total_microseconds() / DAY).alias("tenure_days"),
        (pl.len() > 0).cast(pl.Float64).alias("has_ordered"),
        p.sum().cast(pl.Float64).alias("orders_total"),
        pl.col("amount").sum().alias("spend_total"),
        pl.col("amount").filter(p).mean().fill_null(0.0).alias("avg_order_value"),
        ((pl.col("time").filter(p).max() - pl.col("time").filter(p).min()).dt.total_microseconds()
         / DAY / (p.sum() - 1)).alias("mean_interpurchase_days"),
        (pl.col("amount").filter(~p).sum().abs() / pl.col("amount").filter(p).sum()).fill_nan(0.0).alias("refund_share"),
    ]
    a = (p & (age < 90 * DAY)).sum()
    b = (p & (age >= 90 * DAY) & (age < 180 * DAY)).sum()
    aggs.append(((a - b) / (a + b)).fill_nan(0.0).alias("order_trend_90d"))
    for w in (30, 90, 180):
        inw = age < w * DAY
        aggs.append((p & inw).sum().cast(pl.Float64).alias(f"orders_{w}d"))
        aggs.append(pl.col("amount").filter(inw).sum().alias(f"spend_{w}d"))
    return (o.join(c, on="customer_id")
             .filter(pl.col("time") <= pl.lit(asof))
             .group_by("customer_id").agg(aggs))

times = []
for i in range(runs + 1):
    t = time.perf_counter()
    out = query().collect()
    dt = time.perf_counter() - t
    if i > 0:
        times.append(dt)
print(f"polars {pl.__version__} threads={pl.thread_pool_size()} rows={out.height} cols={out.width} "
      f"median={statistics.median(times):.3f}s min={min(times):.3f}s runs={times}")
