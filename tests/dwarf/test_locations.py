"""Location expressions: decoding, classification and evaluation on a fake frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from wasmdbg.dwarf import DwarfError
from wasmdbg.dwarf.locations import (
    FRAME_BASE,
    OPTIMIZED_OUT,
    Computed,
    ImplicitValue,
    Memory,
    Piece,
    Pieces,
    Place,
    PlaceKind,
    Unsupported,
    WasmGlobal,
    WasmLocal,
    WasmStack,
    decode_expr,
    parse_location,
    resolve,
)

WASM_LOC = 0xED
STACK_VALUE = 0x9F


@dataclass
class FakeFrame:
    locals: list[int] = field(default_factory=lambda: [0, 0x1000, 7])
    globals: list[int] = field(default_factory=lambda: [0x8000])
    stack: list[int] = field(default_factory=lambda: [11, 22])
    memory: bytearray = field(default_factory=lambda: bytearray(0x10000))

    def read_local(self, index: int) -> int:
        return self.locals[index]

    def read_global(self, index: int) -> int:
        return self.globals[index]

    def read_stack(self, index: int) -> int:
        return self.stack[index]

    def read_memory(self, address: int, size: int) -> bytes:
        return bytes(self.memory[address : address + size])


@pytest.mark.parametrize(
    ("expr", "location"),
    [
        ([WASM_LOC, 0, 2, STACK_VALUE], WasmLocal(2)),
        ([WASM_LOC, 0, 0x81, 0x01], WasmLocal(129)),
        ([WASM_LOC, 1, 0], WasmGlobal(0)),
        ([WASM_LOC, 3, 5, 0, 0, 0, STACK_VALUE], WasmGlobal(5)),
        ([WASM_LOC, 2, 1, STACK_VALUE], WasmStack(1)),
        ([0x91, 0x0C], Memory(12, FRAME_BASE)),  # DW_OP_fbreg +12
        ([0x91, 0x74], Memory(-12, FRAME_BASE)),  # DW_OP_fbreg -12
        ([0x03, 0x10, 0x20, 0x00, 0x00], Memory(0x2010)),  # DW_OP_addr
        ([0x03, 0xFF, 0xFF, 0xFF, 0xFF], OPTIMIZED_OUT),  # the linker's tombstone
        ([WASM_LOC, 0, 1, 0x23, 0x08], Memory(8, WasmLocal(1))),  # local 1 + 8
        ([0x11, 0x7F, STACK_VALUE], ImplicitValue(-1)),  # DW_OP_consts -1
        ([0x35, STACK_VALUE], ImplicitValue(5)),  # DW_OP_lit5
        ([], OPTIMIZED_OUT),
    ],
)
def test_classify(expr: list[int], location: object) -> None:
    assert parse_location(expr) == location


def test_pieces_and_computed() -> None:
    loc = parse_location([WASM_LOC, 0, 1, STACK_VALUE, 0x93, 4, 0x93, 4])
    assert loc == Pieces((Piece(WasmLocal(1), 4), Piece(None, 4)))
    c = parse_location([WASM_LOC, 0, 2, 0x31, 0x1E, STACK_VALUE])  # local2 * 1
    assert isinstance(c, Computed) and c.stack_value
    assert str(c) == "computed value"


def test_undecodable_is_unsupported_not_an_error() -> None:
    loc = parse_location([0xE0])  # DW_OP_GNU_push_tls_address
    assert isinstance(loc, Unsupported) and "0xe0" in loc.reason
    with pytest.raises(DwarfError):
        resolve(loc, FakeFrame(), None)
    for bad in ([0x91], [WASM_LOC], [WASM_LOC, 9, 0], [0x03, 1, 2], [0x0C, 1]):
        assert isinstance(parse_location(bad), Unsupported), bad
    with pytest.raises(DwarfError):
        decode_expr([0x91, 0x80])  # truncated LEB128


def test_resolve() -> None:
    f = FakeFrame()
    fb = WasmLocal(1)  # frame base = value of local 1 (0x1000)
    assert resolve(Memory(12, FRAME_BASE), f, fb) == Place(PlaceKind.MEMORY, 0x100C)
    assert resolve(Memory(-16, FRAME_BASE), f, WasmGlobal(0)) == Place(PlaceKind.MEMORY, 0x7FF0)
    assert resolve(Memory(0x2010), f, None) == Place(PlaceKind.MEMORY, 0x2010)
    assert resolve(Memory(8, WasmLocal(1)), f, None) == Place(PlaceKind.MEMORY, 0x1008)
    assert resolve(WasmLocal(2), f, fb) == Place(PlaceKind.LOCAL, 2)
    assert resolve(WasmStack(1), f, fb) == Place(PlaceKind.STACK, 1)
    assert resolve(ImplicitValue(-1), f, fb) == Place(PlaceKind.VALUE, -1)
    assert resolve(OPTIMIZED_OUT, f, fb) is None
    assert resolve(Pieces((Piece(WasmLocal(2), 4), Piece(None, 4))), f, fb) == [
        (Place(PlaceKind.LOCAL, 2), 4),
        (None, 4),
    ]
    with pytest.raises(DwarfError):
        resolve(Memory(0, FRAME_BASE), f, None)  # fbreg without a frame base


def test_stack_machine() -> None:
    f = FakeFrame()
    f.memory[0x1004:0x1008] = (0x1234).to_bytes(4, "little")
    # *(local1 + 4) + 1, as a value
    expr = [WASM_LOC, 0, 1, 0x23, 4, 0x06, 0x31, 0x22, STACK_VALUE]
    assert resolve(parse_location(expr), f, None) == Place(PlaceKind.VALUE, 0x1235)
    # (stack[0] - stack[1]) as an address: 11 - 22 wraps to 32 bits
    expr = [WASM_LOC, 2, 0, WASM_LOC, 2, 1, 0x1C]
    assert resolve(parse_location(expr), f, None) == Place(
        PlaceKind.MEMORY, (11 - 22) & 0xFFFF_FFFF
    )
    # fbreg inside a general expression, dup/swap/over/pick/drop, comparisons, division
    expr = [0x91, 4, 0x12, 0x16, 0x13, 0x37, 0x14, 0x15, 1, 0x1B, 0x13, 0x29, STACK_VALUE]
    assert resolve(parse_location(expr), f, WasmLocal(1)) == Place(PlaceKind.VALUE, 0)
    with pytest.raises(DwarfError):
        resolve(parse_location([0x30, 0x30, 0x1B, STACK_VALUE]), f, None)  # 0 / 0
    with pytest.raises(DwarfError):
        resolve(parse_location([0x22, STACK_VALUE]), f, None)  # plus on an empty stack
