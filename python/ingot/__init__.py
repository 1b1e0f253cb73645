"""ingot: build ONNX models into engines tuned for this machine, and run them.

    import ingot
    engine = ingot.build("model.onnx", shapes={"input": (1, 3, 224, 224)})
    engine.save("model.ingot")                      # later: ingot.load("model.ingot")
    ctx = engine.create_context()                   # one per thread; weights are shared
    outputs = ctx.run({"input": x})                 # numpy arrays, torch CPU tensors, DLPack ...
    engine = ingot.from_torch(model, torch.randn(1, 3, 224, 224))

Errors from the library are raised as ingot.Error, with the message the `ingot` command prints.
"""

import inspect as _inspect
import json
import os

import numpy as np

from . import _ingot
from ._ingot import (
    BuildConfig,
    Engine,
    Error,
    ErrorStats,
    ExecutionContext,
    LayerInfo,
    MemoryInfo,
    ShapeRange,
    TensorInfo,
    load,
    num_threads,
    set_num_threads,
)

__version__ = _ingot.version()
Error.__module__ = __name__  # shown as ingot.Error


def _config_fields():
    """BuildConfig's fields (its read-write properties): each one is a keyword of build()."""
    return sorted(n for n in dir(BuildConfig)
                  if not n.startswith("_") and isinstance(_inspect.getattr_static(BuildConfig, n), property))


BuildConfig.__repr__ = lambda self: "BuildConfig(%s)" % ", ".join(
    "%s=%r" % (n, getattr(self, n)) for n in _config_fields())

__all__ = [
    "BuildConfig", "Calibrator", "Engine", "Error", "ErrorStats", "ExecutionContext", "LayerInfo", "MemoryInfo", "ShapeRange",
    "TensorInfo", "build", "compare", "from_torch", "inspect", "load", "num_threads", "set_num_threads", "simplify",
]

# Keywords of build() that are not BuildConfig fields: the CLI's profile flags, its --threads and its
# precision flags (--fp16 ... set BuildConfig.precision).
_PROFILE_KEYWORDS = ("min_shapes", "opt_shapes", "max_shapes")
_PRECISION_KEYWORDS = ("fp16", "bf16", "int8", "best")
_EXTRA_KEYWORDS = _PROFILE_KEYWORDS + _PRECISION_KEYWORDS + ("threads",)


class Calibrator:
    """INT8 calibration data from Python: subclass it and implement get_batch(), which returns the next
    batch as {input name: array} (the model's dtype), or None when there are no more. The builder asks
    for every batch once, before it builds, and keeps copies.

        class Digits(ingot.Calibrator):
            def __init__(self, x): self.batches = iter(np.split(x, 10))
            def get_batch(self): return {"input": next(self.batches, None)} ...
        ingot.build("model.onnx", int8=True, calib=Digits(x_train))
    """

    def get_batch(self):
        raise NotImplementedError("ingot.Calibrator subclasses implement get_batch()")


def _calibration_data(value):
    """calib=: a folder of .npy files, an ingot.Calibrator, or a list of {input name: array}."""
    if value is None or isinstance(value, _ingot.CalibrationData):
        return value
    if isinstance(value, (str, os.PathLike)):
        return _ingot.npy_dir_calibrator(os.fspath(value))
    if isinstance(value, Calibrator):
        batches = []
        while True:
            b = value.get_batch()
            if b is None:
                break
            if not isinstance(b, dict) or any(v is None for v in b.values()):
                break
            batches.append(b)
        return _ingot.batch_calibrator(batches)
    if isinstance(value, (list, tuple)):
        return _ingot.batch_calibrator(list(value))
    raise TypeError("calib: expected a folder of .npy files, an ingot.Calibrator or a list of {input: array}, "
                    "got %s" % type(value).__name__)


def _dims(value, what):
    """(1, 3, 224, 224), [1, 3, 224, 224] or the CLI's "1x3x224x224" -> list of ints."""
    if isinstance(value, str):
        if value in ("", "scalar"):
            return []
        try:
            return [int(d) for d in value.replace("*", "x").split("x")]
        except ValueError:
            raise ValueError("%s: bad dimensions '%s' (expected e.g. 1x3x224x224)" % (what, value)) from None
    try:
        return [int(d) for d in value]
    except (TypeError, ValueError):
        raise ValueError("%s: expected a sequence of ints, got %r" % (what, value)) from None


def _shape_map(value, what):
    if not isinstance(value, dict):
        raise TypeError("%s: expected {input name: dims}, got %s" % (what, type(value).__name__))
    return {str(name): _dims(dims, "%s['%s']" % (what, name)) for name, dims in value.items()}


def _make_config(config, options):
    """A BuildConfig from `config` (or the defaults) with the keyword options applied on top."""
    options = dict(options)
    cfg = BuildConfig()
    if config is not None:
        if not isinstance(config, BuildConfig):
            raise TypeError("config: expected an ingot.BuildConfig, got %s" % type(config).__name__)
        for name in _config_fields():
            setattr(cfg, name, getattr(config, name))
    fields = _config_fields()
    unknown = sorted(set(options) - set(fields) - set(_EXTRA_KEYWORDS))
    if unknown:
        raise TypeError("unknown build option(s) %s; the options are: %s"
                        % (", ".join(unknown), ", ".join(fields + list(_EXTRA_KEYWORDS))))
    if "shapes" in options:
        options["shapes"] = _shape_map(options["shapes"], "shapes")
    if "profile" in options:
        profile = {}
        for name, r in options["profile"].items():
            if not isinstance(r, ShapeRange):
                r = ShapeRange(*[_dims(d, "profile['%s']" % name) for d in r])
            profile[name] = r
        options["profile"] = profile
    if "calib" in options:
        options["calib"] = _calibration_data(options["calib"])
    if "calib_cache" in options:
        options["calib_cache"] = os.fspath(options["calib_cache"])
    chosen = [k for k in _PRECISION_KEYWORDS if options.get(k)]
    if len(chosen) > 1:
        raise TypeError("choose one of %s, not %s" % ("/".join(_PRECISION_KEYWORDS), " and ".join(chosen)))
    if chosen:
        if "precision" in options and options["precision"] != chosen[0]:
            raise TypeError("%s=True and precision=%r disagree" % (chosen[0], options["precision"]))
        options["precision"] = chosen[0]
    for name in ("disabled_passes", "dump_ir_after"):
        if isinstance(options.get(name), str):
            options[name] = {options[name]}
    for name in fields:
        if name in options:
            setattr(cfg, name, options[name])
    # The CLI's --min-shapes/--opt-shapes/--max-shapes: a profile for each input they name.
    ranges = {k: _shape_map(options[k], k) for k in _PROFILE_KEYWORDS if options.get(k)}
    if ranges:
        profile = dict(cfg.profile)
        for name in sorted(set().union(*[set(m) for m in ranges.values()])):
            mins, opts, maxs = (ranges.get(k, {}).get(name) for k in _PROFILE_KEYWORDS)
            if mins is None or maxs is None:
                raise Error("input '%s': a profile needs both min_shapes and max_shapes" % name)
            profile[name] = ShapeRange(mins, opts if opts is not None else maxs, maxs)
        cfg.profile = profile
    return cfg, options.get("threads")


def _model_source(model):
    """('file', path) or ('bytes', bytes) for a path, bytes or an onnx.ModelProto."""
    if isinstance(model, (str, os.PathLike)):
        return "file", os.fspath(model)
    if isinstance(model, (bytes, bytearray, memoryview)):
        return "bytes", bytes(model)
    if hasattr(model, "SerializeToString"):
        return "bytes", model.SerializeToString()
    raise TypeError("model: expected a path, ONNX bytes or an onnx.ModelProto, got %s" % type(model).__name__)


def build(model, config=None, **options):
    """Builds an engine from an ONNX model (a path, bytes or an onnx.ModelProto).

    Options are `ingot build`'s, as keywords or in a BuildConfig (keywords win):
      shapes={"input": (1, 3, 224, 224)}            fixes dynamic inputs (or "1x3x224x224")
      min_shapes=, opt_shapes=, max_shapes=         an optimization profile per dynamic input
      profile={"input": ShapeRange(min, opt, max)}  the same as ShapeRange objects
      disabled_passes={"fuse_conv_bn"}              builder passes to skip
      dump_ir_after={"all"}                         print the IR after these passes (stderr)
      opt_level=0..3                                0: heuristics; 1-3: tactics timed (default 1)
      fp16=True, bf16=True, int8=True, best=True    precision of Conv/MatMul/Gemm (or precision="int8")
      layer_precision={"conv1": "fp32"}             per-layer precision overrides
      calib="calib_dir/" | Calibrator | [batches]   INT8 calibration data (.npy folder, ingot.Calibrator,
                                                    or a list of {input: array})
      calib_method="entropy", calib_percentile=99.99, calib_cache="model.calib"
      threads=N                                     CPU threads for this thread's work from now on
    The GIL is released while it builds.
    """
    cfg, threads = _make_config(config, options)
    if threads:
        set_num_threads(int(threads))
    kind, source = _model_source(model)
    if kind == "file":
        return _ingot.build_file(source, cfg)
    return _ingot.build_bytes(source, cfg)


def _is_engine_file(path):
    if str(path).endswith(".ingot"):
        return True
    try:
        with open(path, "rb") as f:
            return f.read(8) == b"INGOTENG"
    except OSError:
        return False


def _open(model, config, options):
    if isinstance(model, Engine):
        if config is not None or options:
            raise TypeError("build options apply when building from ONNX, not to an Engine")
        return model
    if isinstance(model, (str, os.PathLike)) and _is_engine_file(os.fspath(model)):
        if config is not None or options:
            raise Error("%s is an engine: build options apply when building from ONNX" % os.fspath(model))
        return load(model)
    return build(model, config, **options)


def inspect(model, config=None, **options):
    """`ingot inspect --json -` as a dict (the same C++ function makes both): source, platform, ingot_version,
    inputs, outputs, layers, reorders, int8 (int8 engines), accuracy (--accuracy-budget builds), memory.

    `model` is an Engine, an engine file, or an ONNX model (built in memory with the build options).
    The same facts as objects: Engine.layers (LayerInfo), Engine.memory (MemoryInfo), Engine.profile.
    """
    return json.loads(_ingot.inspect_json(_open(model, config, options)))


def _random_inputs(engine, seed, given):
    rng = np.random.default_rng(seed)
    feeds = dict(given)
    for t in engine.inputs:
        if t.name in feeds:
            continue
        dims = [d if d >= 0 else 1 for d in t.dims]
        if t.dtype.startswith("float"):
            feeds[t.name] = rng.standard_normal(dims).astype(t.dtype)
        elif t.dtype == "bool":
            feeds[t.name] = rng.integers(0, 2, dims).astype(bool)
        else:
            feeds[t.name] = rng.integers(0, 2, dims).astype(t.dtype)
    return feeds


def compare(reference, engine, inputs=None, seed=0, atol=None, rtol=None):
    """`ingot compare`: runs `reference` (an ONNX model: path, bytes or ModelProto, built in FP32 at the
    inputs' shapes) and `engine` (an Engine or engine file) on the same inputs (`inputs`, the rest seeded
    random) and returns {output name: ErrorStats} (max/mean abs and rel error, cosine, top-1 agreement;
    `failing` counts elements outside atol + rtol * |ref| when atol is given)."""
    if not isinstance(engine, Engine):
        engine = load(engine)
    feeds = _random_inputs(engine, seed, inputs or {})
    ref = build(reference, shapes={k: list(np.shape(v)) for k, v in feeds.items()})
    want = ref.create_context().run(feeds)
    got = engine.create_context().run(feeds)
    out = {}
    for name in engine.output_names:
        if name not in want:
            raise Error("the reference model has no output '%s'" % name)
        out[name] = _ingot.compare_outputs(name, got[name], want[name], -1.0 if atol is None else float(atol),
                                           -1.0 if rtol is None else float(rtol))
    return out


def simplify(model, output=None, input_shapes=None, disabled_passes=()):
    """`ingot simplify`: shape inference, constant folding, dead code, CSE, no-op elimination.

    `model` is a path, ONNX bytes or an onnx.ModelProto. With `output` (a path) the simplified model is
    written there (atomically) and a report dict is returned; without it, (simplified bytes, report).
    The report holds nodes_before, nodes_after, ops_before and ops_after ({op type: count}).
    """
    shapes = _shape_map(input_shapes or {}, "input_shapes")
    disabled = {disabled_passes} if isinstance(disabled_passes, str) else set(disabled_passes)
    kind, source = _model_source(model)
    if output is not None:
        if kind != "file":
            data, report = _ingot.simplify_bytes(source, shapes, disabled)
            tmp = os.fspath(output) + ".tmp%d" % os.getpid()
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, output)
            return report
        return _ingot.simplify_file(source, output, shapes, disabled)
    if kind == "file":
        with open(source, "rb") as f:
            source = f.read()
    return _ingot.simplify_bytes(source, shapes, disabled)


def from_torch(module, example_inputs, dynamic_axes=None, *, input_names=None, output_names=None,
               opset_version=17, **build_config):
    """PyTorch module -> Engine in one call: torch.onnx.export to bytes, then build (whose first stage
    is ingot's simplify).

    example_inputs: a tensor or a tuple of tensors. Inputs are named "input" (one) or "input0",
    "input1" ... and outputs "output" or "output0" ... unless input_names / output_names say otherwise;
    dynamic_axes uses those names, as in torch.onnx.export ({"input": {0: "batch"}}). The remaining
    keywords are build()'s.
    """
    import io

    import torch

    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    if input_names is None:
        n = len(example_inputs)
        input_names = ["input"] if n == 1 else ["input%d" % i for i in range(n)]
    if output_names is None:
        # Count the outputs in eval mode, as the export runs (train mode would update BatchNorm statistics).
        training = getattr(module, "training", False)
        if training:
            module.eval()
        try:
            with torch.no_grad():
                out = module(*example_inputs)
        finally:
            if training:
                module.train()
        n = 1 if isinstance(out, torch.Tensor) else len(out)
        output_names = ["output"] if n == 1 else ["output%d" % i for i in range(n)]
    buf = io.BytesIO()
    torch.onnx.export(module, example_inputs, buf, input_names=list(input_names),
                      output_names=list(output_names), dynamic_axes=dynamic_axes,
                      opset_version=opset_version, do_constant_folding=True)
    return build(buf.getvalue(), **build_config)
