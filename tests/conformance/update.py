"""Re-runs the conformance suite and rewrites baseline.txt (the ratchet) and failing.txt (every case
that does not pass, with the reason). Refuses to lower a category's recorded count.

    .venv/bin/python tests/conformance/update.py [--build build]
"""
import argparse
import os
import pathlib
import subprocess
import sys

import onnx

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=str(ROOT / "build"))
    ap.add_argument("--allow-decrease", action="store_true")
    args = ap.parse_args()
    data = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
    results = pathlib.Path(args.build) / "conformance-results.txt"
    subprocess.run([str(pathlib.Path(args.build) / "bin" / "ingot_conformance"), "--data", data, "--results",
                    str(results)], check=True)
    counts, failing = {}, []
    for line in results.read_text().splitlines():
        case, outcome, reason = (line.split("\t") + ["", ""])[:3]
        cat = case.split("/")[0]
        counts.setdefault(cat, [0, 0])
        counts[cat][1] += 1
        if outcome == "PASS":
            counts[cat][0] += 1
        else:
            failing.append(f"{case}\t{outcome}\t{reason[:300]}")
    old = {}
    baseline = HERE / "baseline.txt"
    for line in baseline.read_text().splitlines():
        if line and not line.startswith("#"):
            k, v = line.split()
            old[k] = int(v)
    for cat, (p, _) in counts.items():
        if p < old.get(cat, 0) and not args.allow_decrease:
            sys.exit(f"{cat}: {p} passing is below the recorded {old[cat]}; fix the regression first")
    lines = ["# category passed: the conformance ratchet. CI fails when a count drops below these.",
             f"# onnx {onnx.__version__} backend test data; written by tests/conformance/update.py"]
    lines += [f"{cat} {p}" for cat, (p, _) in sorted(counts.items())]
    baseline.write_text("\n".join(lines) + "\n")
    (HERE / "failing.txt").write_text(
        f"# Conformance cases that do not pass (onnx {onnx.__version__} test data), with the reason.\n"
        + "\n".join(failing) + "\n")
    for cat, (p, n) in sorted(counts.items()):
        print(f"{cat}: {p} / {n}")


if __name__ == "__main__":
    main()
