"""Deterministic, streaming generator of realistic sample CUR deliveries (legacy Parquet or gzip
CSV, and CUR 2.0).

A delivery is one billing month written the way AWS writes it (layouts in `manifest`): the
data parts first, the manifest last, so the manifest is the commit marker. Writing a month
again first deletes that month's manifest and parts: a restatement is a clean replacement and
other months are not touched. (A CSV report version has a folder of its own, as AWS writes
one: an older version's folder stays, and only the manifest names the current one.)

How the data is shaped, and why:

- Rows belong to *series*: one resource's line item of one type, one row per usage hour, as in
  real hourly CUR (a line item id repeats across hours; (line item id, time interval) is unique).
  Series are planned up front with a seeded `numpy.random.Generator` (about one per 100 rows
  for small samples, one per resource-month for large ones); rows are then made chunk by chunk,
  so memory stays flat however many rows are asked for.
- Per-row noise is a hash of (seed, series, hour), not a sequential draw: a row does not depend
  on chunking, and a dependent line item (SavingsPlanNegation, EdpDiscount, ...) recomputes the
  exact cost of the usage it belongs to.
- Commitment, fee, tax and credit lines come last, from what the usage rows consumed: RIFee
  unused hours from the DiscountedUsage hours, SavingsPlanRecurringFee used commitment from the
  covered usage of that hour, taxes from the usage per account and service. So the amortized
  cost formula gives meaningful values.
- Money is integral in units of 1e-10 USD (monthly items in whole cents) and below 1e5 USD per
  row, so a double holds each value exactly to 10 decimals and the exact `Decimal` total can be
  checked with a DECIMAL sum in SQL.

The modules, in the order a month is made: `catalog` (the fixed world), `context`, `plan`,
`strings`, `rows`, `tables`, `parts` (the files); `generate` is the entry point.
"""

from finops_platform.sample.catalog import DEMO_BUCKET, MIN_ROWS
from finops_platform.sample.generate import GeneratedDelivery, generate_month

__all__ = ["DEMO_BUCKET", "MIN_ROWS", "GeneratedDelivery", "generate_month"]
