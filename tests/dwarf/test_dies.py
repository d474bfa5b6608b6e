"""The DIE skim (offsets, tags, low pcs of top-level entries) agrees with pyelftools."""

from __future__ import annotations

import pytest
from dwarf_oracle import debug_info

from wasmdbg.dwarf import DwarfError
from wasmdbg.dwarf.dies import skim_top_level

SOME = ["types.O0", "inline.O2", "inline.O2.dwarf5"]


@pytest.mark.parametrize("name", SOME)
def test_skim_matches_pyelftools(name: str) -> None:
    info = debug_info(name)
    data = info.module.debug_sections()[".debug_info"]
    lows = 0
    for u in info.units:
        expected = []
        for die in u.top.iter_children():
            low = die.attributes.get("DW_AT_low_pc")
            expected.append((die.offset, die.tag, None if low is None else low.value))
        got = skim_top_level(u.cu, data)
        assert [(o, t) for o, t, _ in got] == [(o, t) for o, t, _ in expected]
        for (_, _, g), (_, _, e) in zip(got, expected, strict=True):
            if g is not None:
                assert g == e
                lows += 1
    assert lows > 10


def test_skim_of_a_truncated_unit_is_a_dwarf_error() -> None:
    info = debug_info("types.O0")
    u = next(u for u in info.units if u.name == "types.c")
    data = info.module.debug_sections()[".debug_info"]
    cut = data[: u.cu.cu_offset + u.cu.size // 2]
    with pytest.raises(DwarfError):
        skim_top_level(u.cu, cut)
