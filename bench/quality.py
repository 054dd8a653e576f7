"""Data quality speed: validated records/s through the entry pipeline, and the report over 1M profiles.

Part 1 runs 100,000 mixed records (emails at consumer and company domains, some misspelt, role
or disposable; phones written five ways, some invalid; names in ALL CAPS; countries as names,
aliases and codes in English and Korean; industries in variant spellings; birthdays in several
formats) through `prepare_record`, the function every entry point calls, in one process and in
one process per core. Part 2 imports --profiles people with `patron import` (the public path)
and times `quality_report` on SQLite and PostgreSQL.
Run: .venv/bin/python bench/quality.py [--records N] [--profiles N] [--skip-postgres] [--skip-report]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scratch import scratch_postgres

from patron.fields.definitions import STANDARD_FIELDS
from patron.profiles.record import prepare_record
from patron.quality.entry import EntryRules
from patron.quality.report import quality_report
from patron.quality.standards import DEFAULT_ALIASES, DEFAULT_VALUES, Standards, fold_field, fold_value
from patron.storage.engine import make_engine

FIRST = ["Minjun", "SEOYEON", "emily", "James", "지우", "Olivia", "HAJUN", "Noah", "도윤", "Ava"]
LAST = ["Kim", "LEE", "park", "Smith", "최", "JOHNSON", "Jung", "Brown", "강", "van der Berg"]
CONSUMER = ["gmail.com", "naver.com", "hanmail.net", "daum.net", "yahoo.com", "outlook.com", "kakao.com"]
TYPOS = ["gmial.com", "naver.con", "hanmial.net", "yaho.com", "outlok.com"]
KOREA = ("KR", "kor", "South Korea", "대한민국", "한국")
COUNTRIES = [
    "KR",
    "kor",
    "South Korea",
    "대한민국",
    "한국",
    "USA",
    "U.S.",
    "United States",
    "미국",
    "JP",
    "일본",
]
INDUSTRIES = ["IT", "Information Technology", "정보기술", "Retail", "유통", "금융", "Finance", "Design"]
BIRTHDAYS = ["1990-03-15", "1985.7.2.", "03/15/1990", "15.03.1990", "1992년 5월 1일", "March 4, 1988"]
TYPES = {name: field_type for name, (field_type, _) in STANDARD_FIELDS.items()}


def mixed_records(count: int, seed: int = 20261201) -> list[dict[str, str]]:
    """Records as apps send them; about one in eight has something wrong."""
    rng = random.Random(seed)
    company_domains = [f"company{n}.co.kr" for n in range(2000)]
    records = []
    for n in range(count):
        roll = rng.random()
        if roll < 0.03:
            domain = rng.choice(TYPOS)
        elif roll < 0.05:
            domain = "mailinator.com"
        elif roll < 0.6:
            domain = rng.choice(CONSUMER)
        else:
            domain = rng.choice(company_domains)
        local = "info" if rng.random() < 0.02 else f"user.{n}"
        email = f"{local}@{domain}" if rng.random() > 0.02 else f"user{n}@@{domain}"
        digits = f"{rng.randrange(2 * 10**7, 10**8):08d}"  # Korean mobile numbers start 010-2..9
        phone = rng.choice(
            [f"010-{digits[:4]}-{digits[4:]}", f"010{digits}", f"+82 10 {digits[:4]} {digits[4:]}",
             f"82-10-{digits[:4]}-{digits[4:]}", f"010 {digits[:4]} {digits[4:]}"]
        ) if rng.random() > 0.04 else rng.choice(["123", "010-12", "02-000-0000"])  # fmt: skip
        country = rng.choice(COUNTRIES)
        if country not in KOREA and phone[0] != "+" and len(phone) > 10:
            phone = f"+82 10 {digits[:4]} {digits[4:]}"  # people abroad write the country code
        records.append(
            {
                "email": email if rng.random() < 0.5 else f" {email.upper()} ",
                "phone": phone,
                "first_name": rng.choice(FIRST),
                "last_name": rng.choice(LAST),
                "country": country,
                "sector" if rng.random() < 0.3 else "industry": rng.choice(INDUSTRIES),
                "birthday": rng.choice(BIRTHDAYS),
            }
        )
    return records


ENTRY = EntryRules(
    standards=Standards(
        {fold_field(alias): name for alias, name in DEFAULT_ALIASES.items()},
        {name: {fold_value(k): v for k, v in values.items()} for name, values in DEFAULT_VALUES.items()},
    )
)


def validate(records: list[dict[str, str]]) -> int:
    """Prepare every record as an import does; returns how many were flagged."""
    flagged = 0
    for traits in records:
        record = prepare_record(traits, source="bench", field_types=TYPES, default_region="KR", entry=ENTRY)
        flagged += bool(record.flags)
    return flagged


def measure_validation(count: int) -> None:
    records = mixed_records(count)
    workers = os.cpu_count() or 1
    chunks = [records[i::workers] for i in range(workers)]
    # Fork the workers first: they must not inherit caches the one-process run warmed.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pool.map(abs, range(workers))  # processes started before the clock
        started = time.perf_counter()
        flagged_parallel = sum(pool.map(validate, chunks))
        parallel = time.perf_counter() - started
    started = time.perf_counter()
    flagged = validate(records)
    one = time.perf_counter() - started
    assert flagged == flagged_parallel
    print(
        f"validation  {count:,} mixed records ({flagged:,} flagged): {count / one:>9,.0f} records/s "
        f"in one process, {count / parallel:>9,.0f} records/s on {workers} processes"
    )


def write_people(path: Path, count: int) -> None:
    rng = random.Random(7)
    lines = ["Email,Phone,First Name,Last Name,Company,Country,City,Industry\n"]
    for n, traits in enumerate(mixed_records(count, seed=11)):
        city = rng.choice(["Seoul", "Busan", "Incheon", "New York", ""])
        company = rng.choice(["Hanbit Soft", "Northwind", "Saebom Foods", ""])
        industry = traits.get("industry") or traits.get("sector")
        email = traits["email"].strip().replace("user.", f"p{n}.", 1)
        lines.append(
            f"{email},{traits['phone']},{traits['first_name']},{traits['last_name']},{company},"
            f"{traits['country']},{city},{industry}\n"
        )
    path.write_text("".join(lines))


def measure_report(name: str, url: str, people: Path, count: int) -> None:
    env = {**os.environ, "PATRON_DATABASE_URL": url, "PATRON_DEFAULT_REGION": "KR"}
    subprocess.run(
        [sys.executable, "-m", "patron", "init", "--json"], env=env, check=True, capture_output=True
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "patron", "import", str(people), "--source", "bench", "--json"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    loaded = time.perf_counter() - started
    engine = make_engine(url)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        report = quality_report(engine)
        timings.append(time.perf_counter() - started)
    assert report["profiles"] >= count * 0.9, report["profiles"]
    print(
        f"report      {name:<10} {report['profiles']:>9,} profiles: {min(timings):5.2f} s "
        f"(best of 3; {', '.join(f'{t:.2f}' for t in timings)}); score {report['score']}, "
        f"{report['emails']['typo']:,} typos, {report['phones']['invalid']:,} invalid phones "
        f"(loaded in {loaded:.0f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--profiles", type=int, default=1_000_000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-report", action="store_true")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    measure_validation(args.records)
    if args.skip_report:
        return
    with tempfile.TemporaryDirectory() as tmp:
        people = Path(tmp) / "people.csv"
        write_people(people, args.profiles)
        measure_report("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", people, args.profiles)
        if not args.skip_postgres:
            with scratch_postgres() as url:
                measure_report("postgresql", url, people, args.profiles)


if __name__ == "__main__":
    main()
