"""Import speed: rows/s for `patron import` of a 100,000-row CSV on SQLite and PostgreSQL.

Before the timed import, 20,000 people are already known (imported from another app); about a
fifth of the 100,000 rows are those people again, matched by email or by phone written another
way. Run: .venv/bin/python bench/import.py [--rows N] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scratch import scratch_postgres

FIRST = ["Minjun", "Seoyeon", "Emily", "James", "Jiwoo", "Olivia", "Hajun", "Noah", "Doyun", "Ava"]
LAST = ["Kim", "Lee", "Park", "Smith", "Choi", "Johnson", "Jung", "Brown", "Kang", "Taylor"]
COMPANIES = ["Hanbit Soft", "Northwind", "Saebom Foods", "Contoso", "Blue Harbor Labs", ""]
HEADER = "Email,Phone,First Name,Last Name,Company,Country,City,Plan\n"


def person_row(n: int, rng: random.Random, *, phone_style: int = 0) -> str:
    """One CSV row for person n; phone_style changes how the same number is written."""
    korean = n % 3 != 0
    if korean:
        digits = f"{10_000_000 + n:08d}"
        phone = [f"010-{digits[:4]}-{digits[4:]}", f"010{digits}", f"+82 10 {digits[:4]} {digits[4:]}"][
            phone_style
        ]
        country, city = "KR", "Seoul"
    else:
        digits = f"{2_000_000 + n:07d}"
        phone = [f"(415) {digits[:3]}-{digits[3:]}", f"415{digits}", f"+1 415 {digits[:3]} {digits[3:]}"][
            phone_style
        ]
        country, city = "US", "San Francisco"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    email = f"{first}.{last}.{n}@example.com"
    if phone_style:
        email = f" {email.upper()} "
    plan = rng.choice(["free", "pro"])
    return f"{email},{phone},{first},{last},{rng.choice(COMPANIES)},{country},{city},{plan}\n"


def write_files(directory: Path, rows: int, known: int) -> tuple[Path, Path]:
    """known.csv (people already in Patron) and bench.csv (the timed import)."""
    rng = random.Random(20261122)
    known_path = directory / "known.csv"
    known_path.write_text(HEADER + "".join(person_row(n, rng) for n in range(known)))
    lines = []
    matched = rows // 5
    for i in range(rows):
        if i < matched:  # a known person again: same email in another case, or the phone written differently
            n = rng.randrange(known)
            line = person_row(n, rng, phone_style=1 + i % 2)
            if i % 2:  # match by phone only
                line = "," + line.split(",", 1)[1]
            lines.append(line)
        else:
            lines.append(person_row(known + i, rng))
    rng.shuffle(lines)
    bench_path = directory / "bench.csv"
    bench_path.write_text(HEADER + "".join(lines))
    return known_path, bench_path


def patron(env: dict[str, str], *args: str) -> dict:
    """Run the real CLI and return its --json output."""
    result = subprocess.run(
        [sys.executable, "-m", "patron", *args, "--json"], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def measure(name: str, url: str, known: Path, bench: Path) -> dict:
    """Init, import the known people, then time the import of the bench file."""
    env = {**os.environ, "PATRON_DATABASE_URL": url, "PATRON_DEFAULT_REGION": "US"}
    patron(env, "init")
    patron(env, "import", str(known), "--source", "crm")
    started = time.perf_counter()
    summary = patron(env, "import", str(bench), "--source", "shop")
    wall = time.perf_counter() - started
    rate = summary["rows"] / summary["seconds"]
    print(
        f"{name:<10} {summary['rows']:>7,} rows  {summary['seconds']:6.2f} s import  {rate:>8,.0f} rows/s"
        f"  ({wall:.2f} s wall incl. process start)  created {summary['created']:,}"
        f"  updated {summary['updated']:,}  unchanged {summary['unchanged']:,}"
    )
    return {"database": name, "rows_per_s": round(rate), **summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--known", type=int, default=20_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        known, bench = write_files(directory, args.rows, args.known)
        measure("sqlite", f"sqlite:///{directory / 'bench.db'}", known, bench)
        if not args.skip_postgres:
            with scratch_postgres() as url:
                measure("postgresql", url, known, bench)


if __name__ == "__main__":
    main()
