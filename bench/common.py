"""What the bench scripts share: model files in the cache, their saved inputs and onnxruntime outputs,
onnxruntime sessions, the error measure, the machine and versions.

No torch here: the benchmark process should hold only the runtimes it times.
"""

import datetime
import os
import platform
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = REPO / "bench" / "models"
# The four models of the CPU benchmark (issue 5); compare_simplify adds SIMPLIFY_EXTRA.
BENCH_MODELS = ["resnet50", "mobilenet_v2", "efficientnet_b0", "bert_base"]
SIMPLIFY_EXTRA = ["resnet18", "bert_tiny"]


def ingot_bin():
    """The ingot command: $INGOT_BIN, else build/bin/ingot in this checkout."""
    return os.environ.get("INGOT_BIN", str(REPO / "build" / "bin" / "ingot"))


def sanitize(name):
    """File name of a tensor's .npy, as `ingot run --output-dir` writes it."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def model_path(cache, name, dynamic_batch=False):
    return Path(cache) / (name + (".dyn" if dynamic_batch else "") + ".onnx")


def inputs_dir(cache, name):
    """Batch-1 inputs of a model, one NAME.npy per graph input (shared by its fixed and dynamic exports)."""
    return Path(cache) / (name + ".inputs")


def reference_dir(cache, name, dynamic_batch=False):
    """onnxruntime's outputs on the saved inputs, one NAME.npy per graph output."""
    return Path(cache) / (name + (".dyn" if dynamic_batch else "") + ".ort")


def load_arrays(directory, names):
    return {n: np.load(Path(directory) / (sanitize(n) + ".npy")) for n in names}


def save_arrays(directory, arrays):
    Path(directory).mkdir(parents=True, exist_ok=True)
    for n, a in arrays.items():
        np.save(Path(directory) / (sanitize(n) + ".npy"), a)


def load_inputs(cache, name, session):
    """The saved batch-1 inputs of a model, keyed by the session's input names."""
    return load_arrays(inputs_dir(cache, name), [i.name for i in session.get_inputs()])


def batch_of_two(feeds):
    """A batch of 2 from batch-1 inputs: the original row and the same row rolled along its last axis, so that
    the two rows differ (integer inputs stay valid ids; a rolled attention mask is still a mask)."""
    return {n: np.concatenate([a, np.roll(a, 1, axis=-1)], axis=0) for n, a in feeds.items()}


def relative_error(got, ref):
    """max |got - ref| / max(max |ref|, 1e-6), as `ingot simplify --check` measures it; inf on a shape mismatch."""
    got, ref = np.asarray(got), np.asarray(ref)
    if got.shape != ref.shape:
        return float("inf")
    ref64 = ref.astype(np.float64)
    diff = np.abs(got.astype(np.float64) - ref64)
    return float(diff.max() / max(float(np.abs(ref64).max()), 1e-6)) if diff.size else 0.0


def max_relative_error(got, ref):
    """Worst relative_error over two lists of outputs in the same order."""
    if len(got) != len(ref):
        return float("inf")
    return max((relative_error(g, r) for g, r in zip(got, ref)), default=0.0)


def ort_session(path, threads=None, optimization="all"):
    """An onnxruntime CPU session; with `threads`, intra-op threads = threads, inter-op 1, sequential execution."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = {
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    }[optimization]
    if threads is not None:
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def ensure_exported(cache, names, dynamic_batch=False):
    """Export the models of `names` whose file is missing from the cache (imports torch only then)."""
    missing = [n for n in names if not model_path(cache, n, dynamic_batch).exists()]
    if missing:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import export_models  # noqa: E402  (torch is slow to import and not needed otherwise)

        for n in missing:
            print("exporting %s%s into %s" % (n, " (dynamic batch)" if dynamic_batch else "", cache), flush=True)
            export_models.export(n, cache, dynamic_batch=dynamic_batch)


def cpu_model_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def ingot_version():
    try:
        p = subprocess.run([ingot_bin(), "--version"], capture_output=True, text=True, timeout=60)
        return p.stdout.strip() or "unknown"
    except OSError:
        return "not built (%s missing)" % ingot_bin()


def git_revision():
    try:
        p = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
        return p.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def environment(extra=None):
    """Machine, versions, date and the command line, for the head of a results table."""
    import onnx
    import onnxruntime as ort

    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": "%s, %d logical CPUs" % (cpu_model_name(), os.cpu_count() or 0),
        "load_average": "%.2f %.2f %.2f" % os.getloadavg(),
        "python": platform.python_version(),
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__,
        "numpy": np.__version__,
        "ingot": "%s (git %s)" % (ingot_version(), git_revision()),
        "command": " ".join(shlex.quote(a) for a in [Path(sys.executable).name] + sys.argv),
    }
    env.update(extra or {})
    return env


def environment_markdown(env):
    return "\n".join("- %s: %s" % (k.replace("_", " "), ("`%s`" % v) if k == "command" else v)
                     for k, v in env.items())


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
