"""The pairwise work of minibatch discrimination in C, compiled on first use (the ``"native"`` route).

Why: the layer's cost is the L1 distance of every pair of rows in every kernel, B N^2 C / 2
absolute differences (B = 100, C = 5: 16 million at N = 256), then an exp per pair.  PyTorch
runs that as whole-tensor operations, each a pass over memory (about 15 for the forward, 25
for the backward); one C loop per pair does it all in registers, vectorised by the compiler,
and visits each pair once, so forward + backward beat the best pure-PyTorch route (measured in
``experiments/benchmarks/README.md``, minibatch discrimination speed).

How: ``minibatch_native.c`` (next to this file, with the float32 vector code it includes from
``minibatch_native_vectors.h``) is compiled with the system C compiler
(``$CC``, else ``cc``, ``gcc`` or ``clang``) into a shared library cached in
``$GAN_LAB_CACHE`` or ``~/.cache/gan_lab``, under a name that hashes the source, the compiler,
the flags and the CPU, so it builds once per machine, in about a second.  It needs neither
PyTorch's headers nor a build step at install, and is called through :mod:`ctypes`, which
releases the GIL.  The kernels are split across ``torch.get_num_threads()`` threads: where the
compiler takes ``-fopenmp``, by an OpenMP loop in C, which runs on PyTorch's own OpenMP threads
(the library asks for ``libgomp.so.1``, and the process already has PyTorch's loaded; separate
Python threads were much slower, because PyTorch's OpenMP worker spins for a while after each
operation and kept the second core from them: experiments/benchmarks/README.md); elsewhere
(e.g. Apple's clang) by Python threads.
If there is no compiler, the build fails, or the library disagrees with a float64 reference
on a small check, :func:`available` is False (with one warning) and the layer uses its
pure-PyTorch route.  ``GAN_LAB_NATIVE=0`` turns the route off.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from torch import Tensor

SOURCE = Path(__file__).with_name("minibatch_native.c")
#: Every file the build reads (the .c includes the .h): all of them are in the cache key.
SOURCES = (SOURCE, SOURCE.with_name("minibatch_native_vectors.h"))

#: Compile flags, tried in order (the first set that builds is used).  -ffast-math lets gcc
#: vectorise the exp through glibc's libmvec and reorder the sums; the caller passes only finite
#: values.  The link step gets no -ffast-math, so loading the library leaves the process's
#: floating-point mode (subnormals) alone; it gets -fopenmp where the compile step had it.
FLAG_SETS = (
    ("-O3", "-march=native", "-ffast-math", "-fPIC", "-fopenmp"),
    ("-O3", "-march=native", "-ffast-math", "-fPIC"),
    ("-O3", "-ffast-math", "-fPIC"),
)

#: Below this many pairs x kernels (B N^2), one thread: handing work to a second thread costs more than it saves.
_THREAD_MIN_WORK = 1 << 18

_SIGNATURES = {  # mbd_forward_*(planes, o, B, C, N, max_l1, threads), mbd_backward_*(planes, g, grad, ...)
    "forward": lambda real: [ctypes.c_void_p] * 2 + [ctypes.c_int64] * 3 + [real, ctypes.c_int],
    "backward": lambda real: [ctypes.c_void_p] * 3 + [ctypes.c_int64] * 3 + [real, ctypes.c_int],
}
_SUFFIX = {torch.float32: ("f32", ctypes.c_float), torch.float64: ("f64", ctypes.c_double)}


def _cache_dir() -> Path:
    root = os.environ.get("GAN_LAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "gan_lab"
    )
    return Path(root) / "native"


def _cpu_signature() -> bytes:
    """What -march=native depends on: a library built for one CPU must not be loaded on another."""
    text = f"{platform.system()} {platform.machine()} {platform.processor()}"
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            text += next((line for line in cpuinfo if line.startswith(("flags", "Features"))), "")
    except OSError:
        pass
    return text.encode()


def build(directory: Path | None = None) -> Path:
    """Compile ``minibatch_native.c`` into ``directory`` (once: the result is cached) and return its path."""
    compiler = os.environ.get("CC") or next((c for c in ("cc", "gcc", "clang") if shutil.which(c)), None)
    if compiler is None:
        raise RuntimeError("no C compiler found (set CC)")
    directory = directory or _cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    source = b"\0".join(path.read_bytes() for path in SOURCES)
    errors = []
    for flags in FLAG_SETS:
        key = hashlib.sha256(b"\0".join([source, compiler.encode(), " ".join(flags).encode(), _cpu_signature()]))
        target = directory / f"minibatch_native_{key.hexdigest()[:16]}.so"
        if target.exists():
            return target
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            obj, lib = Path(tmp, "kernels.o"), Path(tmp, "kernels.so")
            compile_step = [compiler, *flags, "-c", str(SOURCE), "-o", str(obj)]
            openmp = ["-fopenmp"] if "-fopenmp" in flags else []
            link_step = [compiler, "-shared", *openmp, str(obj), "-o", str(lib), "-lm"]  # no -ffast-math: see FLAG_SETS
            try:
                for step in (compile_step, link_step):
                    subprocess.run(step, check=True, capture_output=True, timeout=120)
            except (OSError, subprocess.SubprocessError) as error:
                stderr = getattr(error, "stderr", None)
                errors.append(f"{' '.join(flags)}: {stderr.decode(errors='replace').strip() if stderr else error}")
                continue
            os.replace(lib, target)  # atomic, so processes building at the same time cannot see half a file
        return target
    raise RuntimeError("building minibatch_native.c failed: " + "; ".join(map(str, errors)))


@functools.cache
def library() -> ctypes.CDLL | None:
    """The loaded kernels, or None (with one warning saying why) if they cannot be built or fail the check."""
    if os.environ.get("GAN_LAB_NATIVE", "1") == "0":
        return None
    try:
        lib = ctypes.CDLL(str(build()))
        for suffix, real in _SUFFIX.values():
            for name, argtypes in _SIGNATURES.items():
                function = getattr(lib, f"mbd_{name}_{suffix}")
                function.argtypes, function.restype = argtypes(real), ctypes.c_int
        lib.mbd_openmp.argtypes, lib.mbd_openmp.restype = [], ctypes.c_int
        with torch.enable_grad():  # the check differentiates, even if the first call comes under no_grad
            _self_check(lib)
    except Exception as error:  # noqa: BLE001 - any failure means: use the pure-PyTorch route
        warnings.warn(f"MinibatchDiscrimination: compiled kernels unavailable ({error}); using PyTorch.", stacklevel=2)
        return None
    return lib


def available() -> bool:
    """True if the compiled kernels are built, loaded and checked."""
    return library() is not None


def _self_check(lib: ctypes.CDLL) -> None:
    """Compare with the formula written in PyTorch in float64 (a tie and a far pair included).

    Both implementations are checked: the plain loops (float64 to 1e-10, and float32 at dim 9) and the
    float32 vector code with its own exp (dims 1, 4 and 5, to float32's accuracy), on batches of 1, 7, 9
    and 17 rows (a part of a vector, more than one, more than two).
    """
    gen = torch.Generator().manual_seed(0)
    for n, dim in ((1, 1), (7, 4), (17, 5), (9, 9)):
        m = torch.randn(3, n, dim, generator=gen, dtype=torch.float64)
        if n > 6:
            m[:, 5], m[:, 6] = m[:, 1], 100.0  # a tie with row 1, and a row far from all others
        x = m.clone().requires_grad_()
        l1 = (x.unsqueeze(2) - x.unsqueeze(1)).abs().sum(3)
        keep = (l1 < 50) & ~torch.eye(n, dtype=torch.bool)
        expected = torch.where(keep, torch.exp(-l1.clamp(max=50)), 0.0).sum(2)
        upstream = torch.randn(3, n, generator=gen, dtype=torch.float64)
        (expected_grad,) = torch.autograd.grad(expected, x, upstream)
        for dtype, rtol, atol in ((torch.float64, 1e-10, 1e-12), (torch.float32, 1e-4, 1e-5)):
            planes = m.to(dtype).transpose(1, 2).contiguous()
            o = _call(lib, "forward", planes, planes.new_empty(3, n), max_l1=50.0)
            grad_planes = _call(lib, "backward", planes, upstream.to(dtype), torch.empty_like(planes), max_l1=50.0)
            grad = grad_planes.transpose(1, 2)
            if not (
                torch.allclose(o.double(), expected, rtol=rtol, atol=atol)
                and torch.allclose(grad.double(), expected_grad, rtol=rtol, atol=atol)
            ):
                raise RuntimeError(f"the compiled kernels disagree with PyTorch on a small check ({dtype}, N={n}, C={dim})")


_POOL: tuple[int, int, ThreadPoolExecutor] | None = None  # (process id, workers, pool)
_POOL_LOCK = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    """A pool of ``workers`` threads, made anew after a fork (a forked child has none of its parent's threads)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[:2] != (os.getpid(), workers):
            _POOL = (os.getpid(), workers, ThreadPoolExecutor(workers, thread_name_prefix="gan_lab_mbd"))
        return _POOL[2]


def _call(lib: ctypes.CDLL, name: str, planes: Tensor, *arrays: Tensor, max_l1: float) -> Tensor:
    """Run ``mbd_<name>`` on contiguous (B, ...) arrays, the B kernels split over threads; return the last array.

    The arrays are the C function's pointer arguments in order (inputs, then outputs); kernel b's part of
    each starts at b times its stride along the first dimension.
    """
    kernels, dim, n = planes.shape
    suffix, _ = _SUFFIX[planes.dtype]
    function = getattr(lib, f"mbd_{name}_{suffix}")
    arrays = (planes, *arrays)
    size = planes.element_size()

    def run(start: int, stop: int, threads: int = 1) -> int:
        pointers = [a.data_ptr() + start * a.stride(0) * size for a in arrays]
        return function(*pointers, stop - start, dim, n, max_l1, threads)

    workers = min(torch.get_num_threads(), kernels)
    if workers <= 1 or kernels * n * n < _THREAD_MIN_WORK:
        codes = [run(0, kernels)]
    elif lib.mbd_openmp():
        codes = [run(0, kernels, workers)]
    else:  # the calling thread takes the last share itself: one hand-off fewer
        bounds = [kernels * k // workers for k in range(workers + 1)]
        futures = [_pool(workers - 1).submit(run, start, stop) for start, stop in zip(bounds[:-2], bounds[1:-1])]
        codes = [run(bounds[-2], bounds[-1])] + [future.result() for future in futures]
    if any(codes):
        raise MemoryError(f"minibatch_native: mbd_{name}_{suffix} could not allocate its scratch rows")
    return arrays[-1]


def forward(planes: Tensor, max_l1: float) -> Tensor:
    """o (B, N) from M as planes (B, C, N), contiguous, float32 or float64, and finite."""
    kernels, _, n = planes.shape
    return _call(library(), "forward", planes, planes.new_empty(kernels, n), max_l1=max_l1)


def backward(planes: Tensor, grad_o: Tensor, max_l1: float) -> Tensor:
    """dL/dM as planes (B, C, N), from the planes and dL/do (B, N); the closeness is recomputed, not kept."""
    return _call(library(), "backward", planes, grad_o.contiguous(), torch.empty_like(planes), max_l1=max_l1)
