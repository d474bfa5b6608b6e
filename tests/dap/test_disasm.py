"""debug/disasm: the instruction listing behind the DAP disassemble request."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from wasmdbg import wat2wasm
from wasmdbg.debug.disasm import Listing
from wasmdbg.wasm.decoder import decode_module

WAT = """
(module
  (memory 1)
  (func $add (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add)
  (func $mem (param i32) (result f64)
    local.get 0 i32.load offset=8 align=2 drop
    block (result i32) i32.const -5 end drop
    f64.const 1.5))
"""


@pytest.fixture(scope="module")
def listing() -> Listing:
    return Listing(decode_module(bytes(wat2wasm(WAT))))


def test_texts_and_functions(listing: Listing) -> None:
    texts = [(line.func_index, line.text) for line in listing.lines]
    assert texts == [
        (0, "local.get 0"), (0, "local.get 1"), (0, "i32.add"), (0, "end"),
        (1, "local.get 0"), (1, "i32.load offset=8 align=2"), (1, "drop"),
        (1, "block (result i32)"), (1, "i32.const -5"), (1, "end"), (1, "drop"),
        (1, "f64.const 1.5"), (1, "end"),
    ]
    assert listing.function_name(0) == "add" and listing.function_name(7) == "func[7]"


def test_sizes_tile_each_body(listing: Listing) -> None:
    for body in listing.definition.bodies:
        lines = [line for line in listing.lines if line.func_index == body.func_index]
        assert lines[0].pc == body.code_start
        for a, b in itertools.pairwise(lines):
            assert a.pc + a.size == b.pc
        assert lines[-1].pc + lines[-1].size == body.code_end


def test_lookup_and_windows(listing: Listing) -> None:
    third = listing.lines[2]
    assert listing.index_at(third.pc) == 2
    assert listing.line_at(third.pc + third.size - 1) == third
    assert listing.index_at(0) is None
    window = listing.window(third.pc, -3, 5)
    assert window[0] is None and window[1] == listing.lines[0] and window[4] == listing.lines[3]
    tail = listing.window(listing.lines[-1].pc, 0, 3)
    assert tail[0] == listing.lines[-1] and tail[1:] == [None, None]


def test_a_real_program_decodes_whole() -> None:
    wasm = Path(__file__).resolve().parent / "programs" / "points.O0.wasm"
    listing = Listing(decode_module(wasm.read_bytes()))
    assert len(listing) > 1000
    assert all(line.text for line in listing.lines)
