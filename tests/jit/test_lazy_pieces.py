"""Lazy compilation's machine code: one blob per function, calls through the code table."""

from __future__ import annotations

import capstone
import wasmtime

from wasmdbg.jit.abi import LAZY_ENTRY, LAZY_STUB, Libcall
from wasmdbg.jit.compiler import FuncCompiler, compile_module
from wasmdbg.jit.stubs import compile_lazy_stubs
from wasmdbg.wasm.decoder import decode_module

WAT = """(module
  (import "m" "f" (func $imp (param i32) (result i32)))
  (func $a (param i32) (result i32) local.get 0 call $b local.get 0 call $a i32.add local.get 0 call $imp i32.add)
  (func $b (param i32) (result i32) local.get 0 i32.const 1 i32.add)
  (func $c (param i32) (result i32) local.get 0 i32.const 0 i32.div_u))"""

_MD = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)


def _listing(code: bytes, base: int = 0) -> list[str]:
    return [f"{i.mnemonic} {i.op_str}".strip() for i in _MD.disasm(code, base)]


def test_piece_calls_others_through_the_table_and_itself_directly() -> None:
    mdef = decode_module(wasmtime.wat2wasm(WAT))
    compiler = FuncCompiler(mdef, lazy=True)
    compiled, calls = compiler.compile_piece(mdef.body(1))
    code = compiled.code
    # one call through the table, to $b; the self-call is a direct call rel32
    assert [callee for _at, callee in calls] == [2]
    (at, _), = calls
    assert code[at - 2 : at] == b"\xff\x15"
    func = compiled.functions[0]
    assert func.start == 0 and func.func_index == 1
    assert at + 4 in func.call_sites
    listing = _listing(code)
    assert any(line.startswith("call qword ptr [rip") for line in listing)
    assert func.start == 0 and listing.count("call 0") == 1
    # the blob ends with its own trap routines (trap_common)
    assert compiled.functions[0].end < len(code)


def test_pieces_are_independent_blobs() -> None:
    mdef = decode_module(wasmtime.wat2wasm(WAT))
    compiler = FuncCompiler(mdef, lazy=True)
    first, _ = compiler.compile_piece(mdef.body(3))
    compiler.compile_piece(mdef.body(2))
    again, _ = compiler.compile_piece(mdef.body(3))
    assert first.code == again.code
    assert first.functions[0].trap_sites == again.functions[0].trap_sites


def test_eager_code_has_no_table_calls() -> None:
    mdef = decode_module(wasmtime.wat2wasm(WAT))
    code = compile_module(mdef).code
    assert not any(line.startswith("call qword ptr [rip") for line in _listing(code))


def test_entry_stubs() -> None:
    base, table = 0x10000, 0x8000
    code, start = compile_lazy_stubs(5, 3, table - base)
    assert start % LAZY_STUB == 0 and len(code) == start + 3 * LAZY_STUB
    common = _listing(code[:start], base)
    assert f"mov esi, {int(Libcall.LAZY_COMPILE):#x}" in common
    for k in range(3):
        at = start + LAZY_STUB * k
        fwd = list(_MD.disasm(code[at : at + LAZY_ENTRY], base + at))
        assert len(fwd) == 1 and fwd[0].mnemonic == "jmp"
        assert fwd[0].op_str.startswith("qword ptr [rip")
        disp = int.from_bytes(code[at + 2 : at + 6], "little", signed=True)
        assert base + at + LAZY_ENTRY + disp == table + 8 * k
        lazy = _listing(code[at + LAZY_ENTRY : at + LAZY_STUB], base + at + LAZY_ENTRY)
        assert lazy == [f"mov eax, {5 + k}", f"jmp {base:#x}"]
