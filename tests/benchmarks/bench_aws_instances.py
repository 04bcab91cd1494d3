"""Benchmark: ``s.instances()`` over 1,000 moto EC2 instances vs a hand-written boto3 paginate + json_normalize.

Run from the repository root::

    python tests/benchmarks/bench_aws_instances.py [--repeat 9]

Both sides read the same 1,000 instances from moto's in-process AWS
(``mock_aws``; fake credentials, nothing leaves the machine): 500 members of a
fleet created with ``s.create_fleet`` (an Auto Scaling group) and 500
standalone instances launched in 5 reservations of 100.

* ours     -- ``s.instances()``: the session's loop thread, the provider's
  DescribeInstances paginator in a worker thread (state filter: everything but
  terminated), and the mapping to the ``frames.INSTANCES`` DataFrame (states,
  fleet from the group tag, catalog prices, UTC timestamps, tags as dicts).
* baseline -- the same DescribeInstances with the same filter through a raw
  boto3 client's paginator, then ``pandas.json_normalize`` of every instance.

Runs are interleaved (medians over ``--repeat``; the last column is the ratio
of the fastest runs, the figure least disturbed by machine load). Target: ours
<= 1.2x the baseline. Most of either side is moto rendering and botocore
parsing the XML of 1,000 instances, which both pay alike.

This is a script, not a test: it prints figures and never asserts on them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

os.environ.update(  # fake credentials and no shared files or metadata service: moto answers everything
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
)

import boto3  # noqa: E402
import moto  # noqa: E402
import pandas as pd  # noqa: E402
from moto import mock_aws  # noqa: E402
from report import paired  # noqa: E402 - tests/benchmarks/report.py

import clusterdb_nb as cdb  # noqa: E402

REGION = "us-east-1"
LIVE = ["pending", "running", "stopping", "stopped", "shutting-down"]  # what s.instances() asks for by default


def populate(s: cdb.ComputeSession, ec2: object, fleet_size: int, standalone: int) -> None:
    s.create_fleet(
        cdb.FleetConfig("big", capacity=fleet_size, max_capacity=fleet_size, instance_type="t3.medium", tags={"team": "bench"})
    )
    for _ in range(standalone // 100):
        ec2.run_instances(  # type: ignore[attr-defined]
            ImageId="ami-12345678",
            InstanceType="m5.large",
            MinCount=100,
            MaxCount=100,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "worker"}]}],
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=9, help="timed runs per side (median reported; default 9)")
    args = parser.parse_args(argv)
    n = 1000
    with mock_aws():
        s = cdb.connect(aws={"region": REGION})
        ec2 = boto3.client("ec2", region_name=REGION)
        populate(s, ec2, n // 2, n // 2)

        def ours() -> float:
            t0 = time.perf_counter()
            df = s.instances()
            elapsed = time.perf_counter() - t0
            assert len(df) == n  # a check of the benchmark itself, not of its timing
            return elapsed

        def baseline() -> float:
            t0 = time.perf_counter()
            pages = ec2.get_paginator("describe_instances").paginate(Filters=[{"Name": "instance-state-name", "Values": LIVE}])
            df = pd.json_normalize([i for page in pages for r in page["Reservations"] for i in r["Instances"]])
            elapsed = time.perf_counter() - t0
            assert len(df) == n
            return elapsed

        ours_ms, base_ms, best = paired(ours, baseline, args.repeat)
        s.close()

    print(
        f"clusterdb_nb {cdb.__version__}, boto3 {boto3.__version__}, moto {moto.__version__}, pandas {pd.__version__}, "
        f"Python {sys.version.split()[0]}; median of {args.repeat} runs"
    )
    header = ("what", "ours (ms)", "baseline (ms)", "ratio", "target", "ratio of mins")
    row = (
        f"s.instances() over {n:,} moto instances",
        f"{ours_ms:.1f}",
        f"{base_ms:.1f}",
        f"{ours_ms / base_ms:.2f}x",
        "<= 1.2x",
        f"{best:.2f}x",
    )
    widths = [max(len(a), len(b)) for a, b in zip(header, row)]
    for r in (header, tuple("-" * w for w in widths), row):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))


if __name__ == "__main__":
    main()
