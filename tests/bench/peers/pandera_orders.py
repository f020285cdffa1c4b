"""bench:ingest peer: the orders contract's rules in Pandera on Polars, the tool a data engineer
would reach for instead of vaultmend's ingest.

Reads the CSV as text (every column a string, as vaultmend does, so that no value is changed by
an early cast), validates it with the contract's column checks and `drop_invalid_rows=True`, then
writes the valid rows typed and the invalid rows as text, both to Parquet. Prints one JSON line:
seconds, rows per lane and peak RSS in MB.

Usage: python pandera_orders.py ORDERS.csv OUT_DIR
"""

import json
import resource
import sys
import time

import pandera.polars as pa
import polars as pl

EMAIL = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"


def parses_as_date(data):
    """True where the text is an ISO date that prints back as itself (2026-02-30 fails)."""
    column = pl.col(data.key)
    parsed = column.str.to_date("%Y-%m-%d", strict=False)
    return data.lazyframe.select(parsed.is_not_null() & (parsed.dt.to_string("%Y-%m-%d") == column))


def amount_in_range(data):
    """True where the amount is between 0 and 100000 (the contract's min and range test)."""
    value = pl.col(data.key).cast(pl.Decimal(18, 2), strict=False)
    return data.lazyframe.select(value.is_not_null() & (value >= 0) & (value <= 100000))


SCHEMA = pa.DataFrameSchema(
    {
        "row_id": pa.Column(pl.UInt32),
        # integer, primary key, min 1: canonical digits only (no sign, spaces or leading zeros)
        "order_id": pa.Column(pl.String, pa.Check.str_matches(r"^[1-9][0-9]{0,17}$"), nullable=False),
        "customer": pa.Column(pl.String, pa.Check.str_length(1, 120), nullable=False),
        "email": pa.Column(pl.String, pa.Check.str_matches(EMAIL), nullable=False),
        "amount": pa.Column(
            pl.String,
            [pa.Check.str_matches(r"^-?[0-9]+(\.[0-9]{1,2})?$"), pa.Check(amount_in_range)],
            nullable=False,
        ),
        "ordered_at": pa.Column(pl.String, pa.Check(parses_as_date), nullable=False),
        "note": pa.Column(pl.String, pa.Check.str_length(1, 500), nullable=False),
    },
    unique=["order_id"],
    drop_invalid_rows=True,
)


def main(csv: str, out_dir: str) -> None:
    started = time.perf_counter()
    rows = pl.read_csv(csv, infer_schema=False).with_row_index("row_id", offset=1)
    valid = SCHEMA.validate(rows, lazy=True)
    invalid = rows.join(valid.select("row_id"), on="row_id", how="anti")
    typed = valid.with_columns(
        pl.col("order_id").cast(pl.Int64),
        pl.col("amount").cast(pl.Decimal(18, 2)),
        pl.col("ordered_at").str.to_date("%Y-%m-%d"),
    )
    typed.write_parquet(f"{out_dir}/valid.parquet")
    invalid.write_parquet(f"{out_dir}/invalid.parquet")
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = {
        "seconds": seconds,
        "rows": {"source": rows.height, "valid": typed.height, "invalid": invalid.height},
        "peak_rss_mb": round(peak_mb),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
