"""Benchmark the offline NLU: 10,000 messages against a 5,000-product Italian catalogue.

First the accuracy on the two dev sets against the demo catalogue, side by side
(``nlu_dev.jsonl``: tidy messages; ``nlu_dev_hard.jsonl``: written as on WhatsApp).
Then the speed: builds a deterministic synthetic catalogue (the demo catalogue plus
generated variants), repeats both dev sets to ``--messages`` lines (optionally with one
seeded typo in some of them, so the fuzzy path is exercised), times ``understand`` plus
``search_products`` for questions, and prints p50/p99/mean milliseconds and messages per
second as JSON (with the accuracy figures under ``accuracy``).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

from core.catalog import Catalog, Dealer, Product, parse_catalog
from core.nlu import CatalogIndex, search_products, understand
from core.nlu.evaluate import evaluate, figures, parse_jsonl
from core.understanding import Intent

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "tests" / "fixtures" / "nlu_dev.jsonl"
DEV_SETS = (DEV, ROOT / "tests" / "fixtures" / "nlu_dev_hard.jsonl")
_ROWS = (
    ("intent accuracy", "intent_accuracy"),
    ("cart exact match", "cart_exact_match"),
    ("inquiry top-3 recall", "inquiry_top3_recall"),
)
DEMO = ROOT / "adapters" / "data" / "catalog_demo.json"

_NOUNS = (
    "crocchette", "biscotti", "pasta", "riso", "farina", "zucchero", "caffe", "te", "tisana",
    "miele", "marmellata", "yogurt", "formaggio", "prosciutto", "salame", "tonno", "sugo",
    "pesto", "olive", "aceto", "sale", "cioccolato", "cracker", "grissini", "pane", "latte",
    "burro", "uova", "succo", "birra", "vino", "acqua", "shampoo", "balsamo", "sapone",
    "bagnoschiuma", "dentifricio", "spazzolino", "crema", "profumo", "deodorante", "smalto",
    "rossetto", "cerotti", "garze", "sciroppo", "pastiglie", "integratore", "collare",
    "guinzaglio", "cuccia", "gioco", "lettiera", "snack", "rose", "tulipani", "girasoli",
    "orchidea", "pianta", "vaso", "terriccio", "concime", "candela", "detersivo",
)  # fmt: skip
_QUALIFIERS = (
    "biologico", "integrale", "classico", "extra", "fresco", "light", "senza glutine",
    "al limone", "alla fragola", "al cioccolato", "per cane", "per gatto", "per bambini",
    "delicato", "professionale", "rosso", "bianco", "grande", "piccolo", "famiglia",
    "premium", "artigianale", "toscano", "siciliano", "al pollo", "al salmone",
)  # fmt: skip
_SIZES = ("100 g", "250 g", "500 g", "1 kg", "3 kg", "50 ml", "250 ml", "1 L", "1,5 L", "")


def synthetic_catalog(size: int, seed: int) -> Catalog:
    """The demo catalogue plus generated products up to ``size``, the same for a seed."""
    demo = parse_catalog(json.loads(DEMO.read_text(encoding="utf-8")))
    rng = random.Random(seed)
    dealers = list(demo.dealers)
    products = list(demo.products)
    for n in range(size - len(products)):
        noun, qual, unit = rng.choice(_NOUNS), rng.choice(_QUALIFIERS), rng.choice(_SIZES)
        name = " ".join(part for part in (noun.capitalize(), qual, unit) if part)
        products.append(
            Product(
                id=f"syn-{n:05d}",
                dealer_id=rng.choice(dealers).id,
                name=name,
                description=f"{noun} {qual} di qualità, {rng.choice(_QUALIFIERS)}",
                price=Decimal(rng.randint(99, 9999)) / 100,
                stock=rng.randint(0, 50),
                tags=(noun, rng.choice(_QUALIFIERS)),
            )
        )
    return Catalog.of(dealers or [Dealer(id="d", name="d", category="", phone="+39")], products)


def _typo(text: str, rng: random.Random) -> str:
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) > 4]
    if not long_words:
        return text
    i = rng.choice(long_words)
    j = rng.randrange(1, len(words[i]) - 1)
    words[i] = words[i][:j] + words[i][j + 1 :]
    return " ".join(words)


def _percentile(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(len(sorted_ms) - 1, int(q * len(sorted_ms)))]


def _time_all(
    messages: list[str], catalog: Catalog, index: CatalogIndex
) -> tuple[list[float], float]:
    """Sorted per-message milliseconds and the total seconds."""
    timings = []
    total_started = time.perf_counter()
    for text in messages:
        t0 = time.perf_counter()
        result = understand(text, catalog, index=index)
        if result.intent is Intent.PRODUCT_INQUIRY:
            search_products(text, catalog, limit=3, index=index)
        timings.append((time.perf_counter() - t0) * 1000)
    return sorted(timings), time.perf_counter() - total_started


def _cases(path: Path) -> list[str]:
    return [case.text for case in parse_jsonl(path.read_text(encoding="utf-8").splitlines())]


def accuracy() -> dict[str, dict[str, object]]:
    """The figures of each dev set against the demo catalogue, by file name."""
    demo = parse_catalog(json.loads(DEMO.read_text(encoding="utf-8")))
    out: dict[str, dict[str, object]] = {}
    for path in DEV_SETS:
        cases = parse_jsonl(path.read_text(encoding="utf-8").splitlines())
        out[path.name] = figures(evaluate(cases, [understand(c.text, demo) for c in cases]))
    return out


def side_by_side(figures_by_file: dict[str, dict[str, object]]) -> str:
    """A small text table: one row per figure, one column per dev set."""
    names = list(figures_by_file)
    lines = ["NLU accuracy (demo catalogue)".ljust(30) + "".join(n.ljust(22) for n in names)]
    for label, key in _ROWS:
        cells = (f"{figures_by_file[n][key]}".ljust(22) for n in names)
        lines.append(label.ljust(30) + "".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the JSON figures."""
    parser = argparse.ArgumentParser(prog="bench_nlu", description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=5000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--typo-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    figures_by_file = accuracy()
    print(side_by_side(figures_by_file))
    catalog = synthetic_catalog(args.products, args.seed)
    started = time.perf_counter()
    index = CatalogIndex.build(catalog)
    build_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(args.seed)
    texts = [text for path in DEV_SETS for text in _cases(path)]
    messages = [texts[i % len(texts)] for i in range(args.messages)]
    messages = [_typo(m, rng) if rng.random() < args.typo_rate else m for m in messages]
    timings, elapsed = _time_all(messages, catalog, index)
    report = {
        "products": len(catalog.products),
        "messages": len(messages),
        "typo_rate": args.typo_rate,
        "index_build_ms": round(build_ms, 1),
        "p50_ms": round(_percentile(timings, 0.50), 4),
        "p99_ms": round(_percentile(timings, 0.99), 4),
        "max_ms": round(timings[-1], 4),
        "mean_ms": round(statistics.fmean(timings), 4),
        "messages_per_s": round(len(messages) / elapsed, 1),
        "accuracy": figures_by_file,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
