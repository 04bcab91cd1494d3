"""Benchmark: ``s.instances()`` over 1,000 scale-set VMs vs a hand-written loop of the same SDK calls,
and a fleet create end to end, both in the offline Azure fake.

Run from the repository root::

    python tests/benchmarks/bench_azure_instances.py [--repeat 7]

Both sides read the same 1,000 VMs of one Flexible scale set from ``fake_azure()`` (served through
``responses`` at management.azure.com, 10 pages of 100, nothing leaves the machine):

* ours     -- ``s.instances()``: the session's loop thread, ``virtual_machine_scale_sets.list``, then
  ``virtual_machines.list`` of each set (``filter`` on the set's id: ARM takes ``expand=instanceView``
  only with it) and ``network_interfaces.list`` of the resource group (the private IPs) in worker
  threads, the power-state mapping and the ``frames.INSTANCES`` DataFrame
  (catalog prices, UTC timestamps, tags, private IPs).
* baseline -- the same listings through raw ``ComputeManagementClient`` and
  ``NetworkManagementClient`` (one after the other), then a hand-written loop taking name, size,
  power state, priority, creation time and the primary NIC's private IP of each VM into a DataFrame.

Runs are interleaved (medians over ``--repeat``; the last column is the ratio of the fastest runs).
Target: ours <= 1.2x the baseline. The second row is ``s.create_fleet`` of 3 VMs end to end (a
scale set PUT, its long-running operation polled with ``poll_interval: 0``, the fleet read back)
plus ``s.delete_fleet``; target: the create under 1 s.

This is a script, not a test: it prints figures and never asserts on them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a checkout without installing

import azure.mgmt.compute  # noqa: E402
import pandas as pd  # noqa: E402
from azure.mgmt.compute import ComputeManagementClient  # noqa: E402
from azure.mgmt.network import NetworkManagementClient  # noqa: E402
from report import paired  # noqa: E402 - tests/benchmarks/report.py

import clusterdb_nb as cdb  # noqa: E402
from clusterdb_nb.providers.azure.clients import AnonymousCredential  # noqa: E402
from clusterdb_nb.testing import fake_azure  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per side (median reported; default 7)")
    args = parser.parse_args(argv)
    n = 1000
    rows = []
    with fake_azure() as cloud:
        cloud.set_quota("cores", 10_000)
        s = cdb.connect(azure=cloud.config())
        s.create_fleet(cdb.FleetConfig("big", capacity=n, max_capacity=n, provider="azure", tags={"team": "bench"}))
        compute = ComputeManagementClient(AnonymousCredential(), cloud.subscription_id)
        network = NetworkManagementClient(AnonymousCredential(), cloud.subscription_id)

        def ours() -> float:
            t0 = time.perf_counter()
            df = s.instances()
            elapsed = time.perf_counter() - t0
            assert len(df) == n and df["private_ip"].notna().all()  # a check of the benchmark itself, not of its timing
            return elapsed

        def baseline() -> float:
            t0 = time.perf_counter()
            found = [
                vm
                for vmss in compute.virtual_machine_scale_sets.list("clusterdb")
                for vm in compute.virtual_machines.list(
                    "clusterdb", filter=f"'virtualMachineScaleSet/id' eq '{vmss.id}'", expand="instanceView"
                )
            ]
            ips = {
                nic.virtual_machine.id.lower(): nic.ip_configurations[0].private_ip_address
                for nic in network.network_interfaces.list("clusterdb")
                if nic.virtual_machine is not None
            }
            cols: dict[str, list] = {"id": [], "instance_type": [], "state": [], "spot": [], "launched_at": [], "private_ip": []}
            for vm in found:
                power = next((st.code for st in vm.instance_view.statuses if st.code.startswith("PowerState/")), "")
                cols["id"].append(vm.name)
                cols["instance_type"].append(vm.hardware_profile.vm_size)
                cols["state"].append(power.removeprefix("PowerState/"))
                cols["spot"].append(vm.priority == "Spot")
                cols["launched_at"].append(vm.time_created)
                cols["private_ip"].append(ips.get(vm.id.lower()))
            df = pd.DataFrame(cols)
            elapsed = time.perf_counter() - t0
            assert len(df) == n and df["private_ip"].notna().all()
            return elapsed

        ours_ms, base_ms, best = paired(ours, baseline, args.repeat)
        rows.append(
            (
                f"s.instances() over {n:,} scale-set VMs",
                f"{ours_ms:.1f}",
                f"{base_ms:.1f}",
                f"{ours_ms / base_ms:.2f}x",
                "<= 1.2x",
                f"{best:.2f}x",
            )
        )

        creates, deletes = [], []
        for i in range(args.repeat):
            t0 = time.perf_counter()
            s.create_fleet(cdb.FleetConfig(f"web{i}", capacity=3, provider="azure"))
            creates.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            s.delete_fleet(f"web{i}")
            deletes.append(time.perf_counter() - t0)
        create_ms, delete_ms = statistics.median(creates) * 1000.0, statistics.median(deletes) * 1000.0
        rows.append(
            (
                "create_fleet (3 VMs, poll_interval 0) / delete_fleet",
                f"{create_ms:.1f}",
                f"{delete_ms:.1f}",
                "-",
                "create < 1000 ms",
                "-",
            )
        )
        s.close()

    print(
        f"clusterdb_nb {cdb.__version__}, azure-mgmt-compute {azure.mgmt.compute.__version__}, pandas {pd.__version__}, "
        f"Python {sys.version.split()[0]}; median of {args.repeat} runs"
    )
    header = ("what", "ours (ms)", "baseline (ms)", "ratio", "target", "ratio of mins")
    widths = [max(len(r[k]) for r in (header, *rows)) for k in range(len(header))]
    for r in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))


if __name__ == "__main__":
    main()
