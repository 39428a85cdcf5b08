"""The benchmark's peers agree exactly with ligging on the peer rules (bench/peers.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.generate import sections
from bench.naive import naive_findings
from bench.peers import all_pairs, columns, floor, ligging_findings, numpy_findings, peer_packs
from checker.engine.evaluate import Engine
from checker.io.loader import parse_case


def _set(count: int, seed: int) -> list:
    return [parse_case(json.dumps(case), f"gen:{n + 1}") for n, case in enumerate(sections(count, None, seed))]


def test_peers_agree_with_ligging() -> None:
    sample = _set(60, 7)
    ours = ligging_findings(Engine(peer_packs()), sample)
    assert {key[1] for key in ours} == {"PEER-COV", "PEER-CLR", "PEER-ORDER"}
    assert numpy_findings(columns(sample)) == ours
    assert naive_findings(sample) == ours


def test_all_pairs_is_every_pair_within_each_section() -> None:
    sample = _set(12, 3)
    c = columns(sample)
    i, j = all_pairs(c)
    expected = {(a, b) for s in range(len(sample)) for a in range(c.starts[s], c.starts[s + 1])
                for b in range(a + 1, c.starts[s + 1])}
    assert set(zip(i.tolist(), j.tolist(), strict=True)) == expected
    assert bool(np.all(c.section[i] == c.section[j]))
    assert floor(c) == len(expected)
