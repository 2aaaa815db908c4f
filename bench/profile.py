"""Where a ``get_number_pool()`` call's time goes, from a py-spy profile of scenario 1.

Record, then summarise (py-spy from PyPI; the profile covers every side of scenario 1,
and only samples inside moor7's ``get_number_pool()`` are counted here)::

    py-spy record --rate 500 --format raw -o profile.txt -- python -m bench.perf --only 1
    python -m bench.profile profile.txt

It prints a Markdown table: each part's share of the samples taken inside the call.
A sample belongs to the innermost frame on its stack that names a part; the garbage
collector has no frame of its own, so its time counts where it ran (mostly parsing and
structuring, which make the objects that wake it).
"""

from __future__ import annotations

import argparse
import collections
import sys
from collections.abc import Sequence

# The parts of a call, each recognised by a frame of the stack (the first that matches,
# from the innermost frame out, names the part). msgspec's parser is C: its samples
# stand in moor7/_json.py's loads(), which calls it.
PARTS = (
    ("attrs' generated `__init__`", ("<attrs generated",)),
    ("the time hook (`_to_optional_datetime`)", ("_to_optional_datetime",)),
    (
        "parsing the JSON (json, orjson, msgspec)",
        ("json/decoder.py", "json/__init__.py", "orjson", "loads (moor7/_json.py"),
    ),
    ("cattrs' generated functions", ("<cattrs generated",)),
    ("moor7's fast path (compiled functions)", ("<moor7 fast path",)),
    ("the converter's hooks (moor7/_convert.py)", ("_convert.py",)),
    ("cattrs itself", ("cattrs/",)),
    ("the transport: aiohttp's request, reading the body", ("_transport.py",)),
    ("the envelope (moor7/_envelope.py)", ("_envelope.py",)),
    ("signing (moor7/_signing.py)", ("_signing.py",)),
)
REST = "the rest: the pipeline (`_client.py`, `_endpoints/`), the event loop"
CALL = "get_number_pool (moor7/_endpoints/numbers.py"


def summarise(lines: Sequence[str]) -> dict[str, int]:
    """Samples inside the call, by part; ``"total"`` is all of them."""
    counts: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        frames = stack.split(";")
        inside = [i for i, frame in enumerate(frames) if CALL in frame]
        if not inside or not count.isdigit():
            continue
        samples = int(count)
        counts["total"] += samples
        for frame in reversed(frames[inside[0] :]):
            part = next((name for name, marks in PARTS if any(m in frame for m in marks)), None)
            if part is not None:
                counts[part] += samples
                break
        else:
            counts[REST] += samples
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table for a py-spy ``--format raw`` profile."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("profile", help="py-spy's output, recorded with --format raw")
    args = parser.parse_args(argv)
    with open(args.profile, encoding="utf-8") as file:
        counts = summarise(file.readlines())
    total = counts.pop("total", 0)
    if not total:
        print("no samples inside get_number_pool()", file=sys.stderr)
        return 1
    # The samples too: two profiles of the same scenario made the same number of calls,
    # so their counts compare where the shares of a shrinking total would not.
    print(f"| part of a `get_number_pool()` call | share | samples (of {total:,}) |")
    print("| --- | ---: | ---: |")
    for part, samples in counts.most_common():
        print(f"| {part} | {samples / total:.0%} | {samples:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
