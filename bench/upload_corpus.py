"""Every file of the upload corpus, its seeded mutations and a longer run of random ones,
through the checks an upload goes through (``records.filetypes.inspect``): how many were
accepted as they came, accepted with the stored copy made safe, refused, and how many raised
anything but a refusal (each of those would be a 500). Also the slowest file.

    .venv/bin/python bench/upload_corpus.py [--random 5000] [--no-write]

Writes the figures into docs/security.md, between the upload-figures markers. The suite
itself sends the corpus and the seeded mutations through the real upload view
(tests/records/test_corpus.py, test_mutations.py); this script counts them.
"""

import argparse
import io
import logging
import os
import random
import re
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MARKERS = ("<!-- upload-figures:start -->", "<!-- upload-figures:end -->")


def judge(inspect, rejected, content: bytes) -> tuple[str, float]:
    started = time.perf_counter()
    try:
        checked = inspect(io.BytesIO(content), hold_reports=True)
    except rejected:
        outcome = "refused"
    except BaseException as error:  # what would be a 500
        if isinstance(error, KeyboardInterrupt):
            raise
        outcome = "error"
    else:
        outcome = "cleaned" if checked.notes or checked.held else "accepted"
        checked.close()
    return outcome, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--random", type=int, default=5000, help="Random mutations to add.")
    parser.add_argument("--no-write", action="store_true", help="Do not update the docs.")
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    from records.filetypes import Rejected, inspect
    from tests.records import corpus, test_mutations

    cases = corpus.build()
    groups = {
        "corpus (tests/records/corpus/)": [(case.content, case.outcome) for case in cases],
        "seeded mutations (test_mutations.py)": [(c, None) for _, c, _ in test_mutations.FILES],
    }
    rng = random.Random(1)
    samples = list(test_mutations.SAMPLES.values())
    groups[f"random mutations (seed 1, {options.random})"] = [
        (test_mutations.mutate(test_mutations.mutate(rng.choice(samples), rng), rng), None)
        for _ in range(options.random)
    ]
    rows, slowest = [], (0.0, "")
    for label, files in groups.items():
        counts = dict.fromkeys(("accepted", "cleaned", "refused", "error", "misjudged"), 0)
        for number, (content, expected) in enumerate(files):
            outcome, seconds = judge(inspect, Rejected, content)
            counts[outcome] += 1
            if expected is not None and (outcome == "refused") != (expected == "refuse"):
                counts["misjudged"] += 1
            slowest = max(slowest, (seconds, f"{label} #{number}"))
        rows.append((label, len(files), counts, expected is not None))
    report = render(rows, slowest)
    print(report)
    if not options.no_write:
        write(report)
    return 1 if any(counts["error"] or counts["misjudged"] for _, _, counts, _ in rows) else 0


def render(rows, slowest) -> str:
    lines = [
        "| files | tried | accepted | of which something was removed | refused "
        "| misjudged | errors (500s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, tried, counts, judged in rows:
        accepted = counts["accepted"] + counts["cleaned"]
        misjudged = counts["misjudged"] if judged else "–"
        lines.append(
            f"| {label} | {tried} | {accepted} | {counts['cleaned']} | {counts['refused']} "
            f"| {misjudged} | {counts['error']} |"
        )
    lines.append("")
    lines.append(
        f"Slowest file: {slowest[0]:.2f} s ({slowest[1]}). “Something was removed” counts the "
        "files whose family was told so (scripts, attachments, data after the end, files left "
        "out of a CD, a report held aside); every PDF is rewritten, every DICOM preamble zeroed. "
        "Misjudged: a corpus file refused that should be accepted, or the reverse."
    )
    return "\n".join(lines)


def write(report: str) -> None:
    path = ROOT / "docs" / "security.md"
    text = path.read_text()
    start, end = MARKERS
    block = f"{start}\n{report}\n{end}"
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
