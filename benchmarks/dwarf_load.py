"""Time from module bytes to a resolved source breakpoint: ``python benchmarks/dwarf_load.py [files...]``.

For each module (default: ``benchmarks/programs/sqlite/sqlite.wasm`` when built by
its build.sh, then the C test programs and the benchmark programs), prints the
median of ``--repeat`` fresh runs, in milliseconds, of:

* ``decode``: bytes -> ModuleDef;
* ``open``: ModuleDef -> DebugInfo (compile-unit headers);
* ``break F:N``: ``lines_for`` + ``breakpoint_pcs`` on a line with code in the
  middle of the largest unit's main file (line tables parsed on demand), from a
  fresh DebugInfo;
* ``total``: decode + open + break, i.e. bytes to "break file.c:N resolved";
* ``break fn``: ``function_named`` + ``breakpoint_pc`` for ``main`` (or the first
  function), then ``variables_at`` there, from a fresh DebugInfo;
* ``dwarfdump``: llvm-dwarfdump-22 ``--debug-line`` over the same file (a native
  reference that decodes every line table), when installed.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from wasmdbg.dwarf import DebugInfo, DwarfError, file_matches
from wasmdbg.wasm.decoder import decode_module

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _inputs(extra: list[str]) -> list[Path]:
    if extra:
        return [Path(p) for p in extra]
    files = []
    sqlite = HERE / "programs" / "sqlite" / "sqlite.wasm"
    if sqlite.exists():
        files.append(sqlite)
    files += sorted((ROOT / "tests" / "programs" / "c").glob("*.O2.wasm"))
    files += [p for p in sorted((HERE / "programs").glob("*.wasm")) if ".nodbg." not in p.name]
    return files


def _target(data: bytes) -> tuple[str, int, str]:
    """A file:line in the middle of the largest unit's main file, and a function name."""
    info = DebugInfo(decode_module(data))
    main_file, lines = "", []
    for unit in sorted(info.units, key=lambda u: -u.cu.size):
        main_file = next((p for p in unit.file_names if p and file_matches(p, unit.name)), unit.name)
        lines = sorted({r.line for r in unit.lines.rows() if r.is_stmt and r.file == main_file})
        if lines:  # the largest unit with code of its own (not all discarded by the linker)
            break
    if not lines:
        raise DwarfError("no line table rows")
    line = lines[len(lines) // 2]
    names = ["main", "run"] + [f.name for f in info.functions()[:1]]
    fn = next((n for n in names if info.function_named(n) is not None), None)
    if fn is None:
        raise DwarfError("no function with DWARF")
    return main_file, line, fn


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:9.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    dump = shutil.which("llvm-dwarfdump-22")
    print(
        f"{'module':28} {'code KB':>8} {'DWARF KB':>8} {'decode':>9} {'open':>9} {'break F:N':>9} "
        f"{'total':>9} {'break fn':>9} {'dwarfdump':>9}  (ms, median of {args.repeat})"
    )
    for path in _inputs(args.files):
        data = path.read_bytes()
        try:
            file, line, fn = _target(data)
        except DwarfError as e:
            print(f"{path.name:28} no DWARF: {e}")
            continue
        t_dec, t_open, t_line, t_total, t_fn, t_dump = [], [], [], [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            m = decode_module(data)
            t1 = time.perf_counter()
            info = DebugInfo(m)
            t2 = time.perf_counter()
            match = info.lines_for(file, line)
            if match is None:
                raise SystemExit(f"{path}: {file}:{line} did not resolve")
            info.breakpoint_pcs(match)
            t3 = time.perf_counter()
            t_dec.append(t1 - t0)
            t_open.append(t2 - t1)
            t_line.append(t3 - t2)
            t_total.append(t3 - t0)
            info = DebugInfo(m)
            t4 = time.perf_counter()
            f = info.function_named(fn)
            if f is None:
                raise SystemExit(f"{path}: no function {fn}")
            info.variables_at(f.breakpoint_pc)
            t_fn.append(time.perf_counter() - t4)
            if dump:
                t5 = time.perf_counter()
                subprocess.run(
                    [dump, "--debug-line", str(path)], check=True, stdout=subprocess.DEVNULL
                )
                t_dump.append(time.perf_counter() - t5)
        code = (m.bodies[-1].code_end - m.code_offset) if m.bodies else 0
        dwarf = sum(len(v) for v in m.debug_sections().values())
        print(
            f"{path.name:28} {code / 1024:8.0f} {dwarf / 1024:8.0f} {_median_ms(t_dec)} {_median_ms(t_open)} "
            f"{_median_ms(t_line)} {_median_ms(t_total)} {_median_ms(t_fn)} "
            f"{_median_ms(t_dump) if t_dump else '        -'}"
        )
        print(f"{'':28} break {file}:{line}, break {fn}")


if __name__ == "__main__":
    main()
