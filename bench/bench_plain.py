"""What the installed plugin costs a pytest run that has no notebooks at all.

Writes 50 trivial test functions into a temporary folder and times ``python -m pytest`` over it
as subprocesses, with the plugin loaded (as installed) and with ``-p no:nbscrap``, alternating.
Both runs switch nbmake and nbval off, so our plugin is the only difference. One uncounted run
of each warms the file cache; a run is short, so the default is 15 rounds.

    python bench/bench_plain.py [--rounds N]

The issue's bar: with / without <= 1.05.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from _fixtures import Notes, Row, alternate, rounds_main
from bench_suite import PytestRun

TESTS = 50
TARGET = 1.05
OTHERS_OFF = ("-p", "no:nbmake", "-p", "no:nbval")


def write_tests(folder: Path, count: int = TESTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "test_plain.py"
    path.write_text(
        "".join(
            f"def test_{index}():\n    assert {index} + 1 == {index + 1}\n\n"
            for index in range(count)
        )
    )
    return path


def run(rounds: int = 15) -> tuple[list[Row], Notes]:
    notes = Notes()
    with tempfile.TemporaryDirectory(prefix="nbscrap-bench-plain-") as tmp:
        folder = Path(tmp) / "tests"
        write_tests(folder)
        runs = {
            "with plugin": PytestRun(
                "with plugin", OTHERS_OFF, folder, Path(tmp) / "bt-with", TESTS, notes
            ),
            "-p no:nbscrap": PytestRun(
                "-p no:nbscrap",
                (*OTHERS_OFF, "-p", "no:nbscrap"),
                folder,
                Path(tmp) / "bt-without",
                TESTS,
                notes,
            ),
        }
        for name, pytest_run in runs.items():
            print(f"  c {name}: {pytest_run.shown().replace(str(tmp), '$TMP')}", flush=True)
        times = alternate(runs, rounds, warmup=True)
    row = Row(
        "c",
        "no notebooks: plugin vs -p no:nbscrap",
        f"`pytest` on {TESTS} plain tests, plugin installed (vs `-p no:nbscrap`)",
        times["with plugin"],
        times["-p no:nbscrap"],
        TARGET,
        theirs_name="-p no:nbscrap",
    )
    return [row], notes


def main(argv: list[str] | None = None) -> int:
    return rounds_main(run, __doc__ or "", 15, argv)


if __name__ == "__main__":
    raise SystemExit(main())
