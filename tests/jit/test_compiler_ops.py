"""Numeric instructions, differentially against wasmtime (the oracle).

Every unary/binary/conversion instruction is wrapped in a function that takes
and returns raw bit patterns (floats cross through ``reinterpret``), and is
run on a grid of edge values in both engines.  NaN results only need to be
NaNs (Wasm leaves their sign and payload open) except for the bitwise float
operations (abs, neg, copysign, reinterpret), which must match exactly.
"""

from __future__ import annotations

import itertools

import pytest
import wasmtime
from jitharness import Instance, Trapped

I32_VALS = [0, 1, 2, 3, 7, 31, 32, 33, 63, 64, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE,
            0x12345678, 0x80000001, 0x00010000, 0xFFFF8000, 0x7F, 0x80, 0xFF, 0x8000]  # fmt: skip
I64_VALS = [0, 1, 2, 3, 63, 64, 65, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF,
            0xFFFFFFFF, 0x80000000, 0x100000000, 0x123456789ABCDEF0, 0x8000000000000001,
            0xFFFFFFFF80000000, 0x7F, 0x80, 0xFFFF]  # fmt: skip
F32_VALS = [0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x3F000000, 0xBF000000, 0x3FC00000,
            0x40200000, 0xC0200000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000, 0x7FA00000,
            0x4F000000, 0x4F800000, 0x5F000000, 0x5F800000, 0xCF000000, 0xCF000001, 0xDF000000,
            0x7F7FFFFF, 0x00000001, 0x80000001, 0x4EFFFFFF, 0x4F7FFFFF, 0xBF7FFFFF,
            0x3F7FFFFF, 0x5EFFFFFF, 0xDEFFFFFF, 0x40490FDB]  # fmt: skip
F64_VALS = [0x0, 0x8000000000000000, 0x3FF0000000000000, 0xBFF0000000000000, 0x3FE0000000000000,
            0xBFE0000000000000, 0x3FF8000000000000, 0x4004000000000000, 0xC004000000000000,
            0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 0xFFF8000000000000,
            0x7FF4000000000000, 0x41E0000000000000, 0x41F0000000000000, 0x43E0000000000000,
            0x43F0000000000000, 0xC1E0000000000000, 0xC1E0000000200000, 0xC1E00000001FFFFF,
            0xC3E0000000000000, 0x7FEFFFFFFFFFFFFF, 0x1, 0x8000000000000001, 0x41DFFFFFFFC00000,
            0x41EFFFFFFFE00000, 0x41EFFFFFFFFFFFFF, 0xBFEFFFFFFFFFFFFF, 0x43DFFFFFFFFFFFFF,
            0x43EFFFFFFFFFFFFF, 0xC3E0000000000001, 0x400921FB54442D18]  # fmt: skip
VALS = {"i32": I32_VALS, "i64": I64_VALS, "f32": F32_VALS, "f64": F64_VALS}
BITS = {"i32": "i32", "i64": "i64", "f32": "i32", "f64": "i64"}

INT_BIN = "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u"
INT_UN = "clz ctz popcnt eqz extend8_s extend16_s"
FLT_BIN = "add sub mul div min max copysign eq ne lt gt le ge"
FLT_UN = "abs neg ceil floor trunc nearest sqrt"
CONVERSIONS = [
    ("i32.wrap_i64", "i64", "i32"), ("i64.extend_i32_s", "i32", "i64"),
    ("i64.extend_i32_u", "i32", "i64"), ("i64.extend32_s", "i64", "i64"),
    ("f32.demote_f64", "f64", "f32"), ("f64.promote_f32", "f32", "f64"),
    ("i32.reinterpret_f32", "f32", "i32"), ("f32.reinterpret_i32", "i32", "f32"),
    ("i64.reinterpret_f64", "f64", "i64"), ("f64.reinterpret_i64", "i64", "f64"),
]  # fmt: skip
for _i in ("i32", "i64"):
    for _f in ("f32", "f64"):
        for _s in ("s", "u"):
            CONVERSIONS.append((f"{_i}.trunc_{_f}_{_s}", _f, _i))
            CONVERSIONS.append((f"{_i}.trunc_sat_{_f}_{_s}", _f, _i))
            CONVERSIONS.append((f"{_f}.convert_{_i}_{_s}", _i, _f))

EXACT_NAN = {"abs", "neg", "copysign", "reinterpret_f32", "reinterpret_i32", "reinterpret_f64",
             "reinterpret_i64"}  # fmt: skip


def _arg(t: str, i: int) -> str:
    get = f"local.get {i}"
    return f"{get} {t}.reinterpret_{BITS[t]}" if t != BITS[t] else get


def _ret(t: str) -> str:
    return f"{BITS[t]}.reinterpret_{t}" if t != BITS[t] else ""


def _cases() -> list[tuple[str, list[str], str]]:
    """(instruction, param types, result type)."""
    out: list[tuple[str, list[str], str]] = []
    for t in ("i32", "i64"):
        for op in INT_BIN.split():
            res = "i32" if op[:2] in ("eq", "ne", "lt", "gt", "le", "ge") else t
            out.append((f"{t}.{op}", [t, t], res))
        for op in INT_UN.split():
            out.append((f"{t}.{op}", [t], "i32" if op == "eqz" else t))
    for t in ("f32", "f64"):
        for op in FLT_BIN.split():
            res = "i32" if op in ("eq", "ne", "lt", "gt", "le", "ge") else t
            out.append((f"{t}.{op}", [t, t], res))
        for op in FLT_UN.split():
            out.append((f"{t}.{op}", [t], t))
    for name, src, dst in CONVERSIONS:
        out.append((name, [src], dst))
    return out


CASES = _cases()


def _module() -> bytes:
    funcs = []
    for k, (instr, params, res) in enumerate(CASES):
        ps = " ".join(BITS[p] for p in params)
        body = " ".join(_arg(p, i) for i, p in enumerate(params))
        funcs.append(
            f'(func (export "f{k}") (param {ps}) (result {BITS[res]}) {body} {instr} {_ret(res)})'
        )
        # the same with a constant right operand (exercises immediate forms)
        if len(params) == 2:
            funcs.append(f'(func (export "c{k}") (param {BITS[params[0]]}) (result {BITS[res]}) '
                         f'{_arg(params[0], 0)} CONST {instr} {_ret(res)})')  # fmt: skip
    return "\n".join(funcs).encode()


_MOD_TEXT = _module().decode()


def _signed(v: int, bits: int) -> int:
    return v - (1 << bits) if v >> (bits - 1) else v


def _is_nan(t: str, v: int) -> bool:
    if t == "f32":
        return (v & 0x7F800000) == 0x7F800000 and (v & 0x7FFFFF) != 0
    if t == "f64":
        return (v & 0x7FF0000000000000) == 0x7FF0000000000000 and (v & 0xFFFFFFFFFFFFF) != 0
    return False


@pytest.fixture(scope="module")
def engines() -> tuple[Instance, object, object]:
    text = (
        "(module " + "\n".join(line for line in _MOD_TEXT.splitlines() if "CONST" not in line) + ")"
    )
    wasm = wasmtime.wat2wasm(text)
    ours = Instance(wasm)
    store = wasmtime.Store()
    theirs = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    return ours, store, theirs


def _run_theirs(store: object, inst: object, name: str, args: list[int]) -> int | str:
    f = inst.exports(store)[name]  # type: ignore[attr-defined]
    try:
        r = f(store, *args)
    except wasmtime.Trap as t:
        return str(t.trap_code.name) if t.trap_code is not None else "trap"
    return int(r)


_TRAP_NAMES = {
    "INTEGER_DIVISION_BY_ZERO": "INTEGER_DIVISION_BY_ZERO",
    "INTEGER_OVERFLOW": "INTEGER_OVERFLOW",
    "BAD_CONVERSION_TO_INTEGER": "BAD_CONVERSION_TO_INTEGER",
}


@pytest.mark.parametrize("k", range(len(CASES)), ids=[c[0] for c in CASES])
def test_op(engines: tuple[Instance, object, object], k: int) -> None:
    ours, store, theirs = engines
    instr, params, res = CASES[k]
    op = instr.split(".", 1)[1]
    grids = [VALS[p] for p in params]
    bad = []
    for args in itertools.product(*grids):
        sargs = [
            _signed(a, 32 if BITS[p] == "i32" else 64) for a, p in zip(args, params, strict=True)
        ]
        want = _run_theirs(store, theirs, f"f{k}", sargs)
        try:
            got: int | str = ours.call(f"f{k}", *sargs)[0]
        except Trapped as t:
            got = t.code.name
        if isinstance(want, str) or isinstance(got, str):
            if _TRAP_NAMES.get(str(want), want) != got:
                bad.append((args, want, got))
            continue
        mask = (1 << (32 if BITS[res] == "i32" else 64)) - 1
        w, g = want & mask, got & mask
        if w != g and not (op not in EXACT_NAN and _is_nan(res, w) and _is_nan(res, g)):
            bad.append(([hex(a) for a in args], hex(w), hex(g)))
    assert not bad, f"{instr}: {len(bad)} mismatches, first: {bad[:5]}"


@pytest.mark.parametrize(
    "k",
    [k for k, c in enumerate(CASES) if len(c[1]) == 2],
    ids=[c[0] for c in CASES if len(c[1]) == 2],
)
def test_op_const_rhs(k: int) -> None:
    instr, params, res = CASES[k]
    t = params[1]
    rhs_vals = VALS[t][:: max(1, len(VALS[t]) // 6)]
    lines = []
    for j, v in enumerate(rhs_vals):
        const = f"{BITS[t]}.const {_signed(v, 32 if BITS[t] == 'i32' else 64)}"
        if t != BITS[t]:
            const += f" {t}.reinterpret_{BITS[t]}"
        line = next(x for x in _MOD_TEXT.splitlines() if f'"c{k}"' in x)
        lines.append(line.replace(f'"c{k}"', f'"c{j}"').replace("CONST", const))
    wasm = wasmtime.wat2wasm("(module " + "\n".join(lines) + ")")
    ours = Instance(wasm)
    store = wasmtime.Store()
    theirs = wasmtime.Instance(store, wasmtime.Module(store.engine, wasm), [])
    op = instr.split(".", 1)[1]
    bad = []
    for j in range(len(rhs_vals)):
        for a in VALS[params[0]]:
            sa = _signed(a, 32 if BITS[params[0]] == "i32" else 64)
            want = _run_theirs(store, theirs, f"c{j}", [sa])
            try:
                got: int | str = ours.call(f"c{j}", sa)[0]
            except Trapped as tr:
                got = tr.code.name
            if isinstance(want, str) or isinstance(got, str):
                if want != got:
                    bad.append((hex(a), rhs_vals[j], want, got))
                continue
            mask = (1 << (32 if BITS[res] == "i32" else 64)) - 1
            w, g = want & mask, got & mask
            if w != g and not (op not in EXACT_NAN and _is_nan(res, w) and _is_nan(res, g)):
                bad.append((hex(a), hex(rhs_vals[j]), hex(w), hex(g)))
    assert not bad, f"{instr}: {len(bad)} mismatches, first: {bad[:5]}"
