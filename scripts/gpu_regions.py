"""Regions that offer each GPU class's instance types, from the offerings snapshot bundled with moto.

Usage: .venv/bin/python scripts/gpu_regions.py [INSTANCE_TYPE ...]   (default: template.yaml's
InstanceTypes<CLASS> defaults)

Offline, so it can run before an account exists (docs/DEPLOY.md, "Regions"). The data is moto's copy of
EC2 DescribeInstanceTypeOfferings (location type region) as of the installed moto release, not a live
answer: AWS adds regions over time. On an account, the live answer is
``aws ec2 describe-instance-type-offerings --location-type region --filters Name=instance-type,Values=T
--region R``, and `parakeet doctor` checks the stack's own region.
"""

from __future__ import annotations

import sys
from pathlib import Path

from moto import __version__ as moto_version
from moto.ec2.models.instance_types import INSTANCE_TYPE_OFFERINGS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from local_emulator.template import read_template


def default_types() -> dict[str, list[str]]:
    """Class -> instance types, from template.yaml's GpuSizeClasses and InstanceTypes<CLASS> defaults."""
    parameters = read_template()["Parameters"]
    classes = parameters["GpuSizeClasses"]["Default"].split(",")
    return {c: parameters[f"InstanceTypes{c}"]["Default"].split(",") for c in classes}


def regions_offering(instance_type: str) -> list[str]:
    offerings = INSTANCE_TYPE_OFFERINGS["region"]
    return sorted(r for r, offered in offerings.items() if instance_type in _types(offered))


def _types(offered: list[dict[str, str]]) -> set[str]:
    return {o["InstanceType"] for o in offered}


def main(argv: list[str]) -> int:
    by_class = {t: [t] for t in argv} if argv else default_types()
    print(f"regions offering each instance type (moto {moto_version} snapshot of EC2 offerings)")
    every: set[str] | None = None
    for name, types in by_class.items():
        for instance_type in types:
            regions = regions_offering(instance_type)
            every = set(regions) if every is None else every & set(regions)
            print(f"{name:8} {instance_type:16} {len(regions):2}  {' '.join(regions)}")
    print(f"all of them: {' '.join(sorted(every or ()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
