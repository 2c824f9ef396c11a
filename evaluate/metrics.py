"""Ranking metrics as BEIR computes them (pytrec_eval's definitions): nDCG@k, Recall@k, MRR@k.

`ranked` is a list of ids, best first; `relevant` maps ids to graded relevance (0 = not relevant).
nDCG uses linear gain (rel / log2(rank + 1)), as trec_eval does; the ideal ranking sorts all judged
relevance grades. A query with nothing relevant is not scored (BEIR skips it as well).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    gains = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    if ideal == 0:
        raise ValueError("nDCG is undefined for a query with nothing relevant")
    seen: set[str] = set()
    dcg = 0.0
    for i, doc in enumerate(ranked[:k]):
        if doc not in seen:
            seen.add(doc)
            dcg += relevant.get(doc, 0) / math.log2(i + 2)
    return dcg / ideal


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    wanted = {d for d, g in relevant.items() if g > 0}
    if not wanted:
        raise ValueError("recall is undefined for a query with nothing relevant")
    return len(wanted & set(ranked[:k])) / len(wanted)


def mrr_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    for i, doc in enumerate(ranked[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
