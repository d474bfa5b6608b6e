"""C types read from DWARF and spelled as gdb's whatis/ptype print them."""

from __future__ import annotations

import pytest
from dwarf_oracle import debug_info

from wasmdbg.dwarf.types import (
    VOID,
    ArrayType,
    BaseType,
    Encoding,
    EnumType,
    FunctionType,
    PointerType,
    QualifiedType,
    StructType,
    TypedefType,
    UnknownType,
    declaration,
    ptype,
    strip_typedefs,
    type_name,
)

POINT = """struct point {
    int x;
    int y;
}"""

# (variable in main, whatis, ptype)
MAIN_LOCALS = [
    ("c", "char", "char"),
    ("uc", "unsigned char", "unsigned char"),
    ("us", "unsigned short", "unsigned short"),
    ("u", "uint", "unsigned int"),
    ("ll", "long long", "long long"),
    ("flag", "_Bool", "_Bool"),
    ("col", "Color", "enum color {RED, GREEN = 5, BLUE}"),
    ("arr", "int [5]", "int [5]"),
    ("str", "const char *", "const char *"),
    ("ipp", "int **", "int **"),
    ("pt", "Point", POINT),
    ("ppt", "Point *", POINT + " *"),
    ("pts", "Point [2]", POINT + " [2]"),
    ("ops", "binop [2]", "int (*[2])(int, int)"),
    ("vp", "void *", "void *"),
    (
        "num",
        "union number",
        "union number {\n    int32_t i;\n    float f;\n    unsigned char bytes[4];\n}",
    ),
    (
        "fl",
        "struct flags",
        "struct flags {\n    unsigned int ready : 1;\n    unsigned int mode : 3;\n"
        "    int delta : 4;\n    unsigned int count : 8;\n}",
    ),
    (
        "rc",
        "struct rect",
        "struct rect {\n    Point top_left;\n    Point bottom_right;\n    Color color;\n"
        "    const char *label;\n}",
    ),
]


@pytest.mark.parametrize("opt", ["O0", "O2", "O2.dwarf5"])
def test_main_locals_whatis_and_ptype(opt: str) -> None:
    info = debug_info(f"types.{opt}")
    main = info.function_named("main")
    assert main is not None
    by_name = {v.name: v for v in main.root.variables}
    for name, whatis, expanded in MAIN_LOCALS:
        if name not in by_name:
            assert opt != "O0", name  # -O2 may drop a variable entirely
            continue
        assert type_name(by_name[name].type) == whatis, name
        assert ptype(by_name[name].type) == expanded, name


def test_sizes_and_layout() -> None:
    info = debug_info("types.O0")
    main = info.function_named("main")
    assert main is not None
    v = {x.name: x.type for x in main.root.variables}
    assert [v[n].size for n in ("c", "s", "i", "ll", "f", "d", "flag", "arr", "ipp")] == [
        1,
        2,
        4,
        8,
        4,
        8,
        1,
        20,
        4,
    ]
    rect = strip_typedefs(v["rc"])
    assert isinstance(rect, StructType) and rect.size == 24
    assert [(m.name, m.offset) for m in rect.members] == [
        ("top_left", 0),
        ("bottom_right", 8),
        ("color", 16),
        ("label", 20),
    ]
    flags = strip_typedefs(v["fl"])
    assert isinstance(flags, StructType) and flags.size == 4
    assert [(m.name, m.bit_offset, m.bit_size) for m in flags.members] == [
        ("ready", 0, 1),
        ("mode", 1, 3),
        ("delta", 4, 4),
        ("count", 8, 8),
    ]
    num = strip_typedefs(v["num"])
    assert isinstance(num, StructType) and num.kind == "union" and num.size == 4
    assert {m.offset for m in num.members} == {0}
    col = strip_typedefs(v["col"])
    assert isinstance(col, EnumType) and col.enumerators == (("RED", 0), ("GREEN", 5), ("BLUE", 6))
    assert col.name_of(6) == "BLUE" and col.name_of(7) is None
    s = strip_typedefs(v["s"])
    assert isinstance(s, BaseType) and s.is_signed and not s.is_float
    assert isinstance(strip_typedefs(v["us"]), BaseType) and not strip_typedefs(v["us"]).is_signed  # type: ignore[union-attr]


def test_self_referential_struct() -> None:
    info = debug_info("types.O0")
    g = info.lookup_variable("g_nodes")
    assert g is not None
    arr = g.type
    assert isinstance(arr, ArrayType) and arr.count == 3 and arr.size == 24
    node = arr.element
    assert isinstance(node, StructType)
    nxt = node.member("next")
    assert nxt is not None and isinstance(nxt.type, PointerType) and nxt.type.target is node
    assert ptype(node) == "struct node {\n    int value;\n    struct node *next;\n}"
    assert type_name(arr) == "struct node [3]"


def test_globals_types() -> None:
    info = debug_info("types.O0")
    expect = {
        "g_matrix": "int [2][3]",
        "g_volatile": "volatile short",
        "g_message": "char [16]",
        "g_greeting": "const char *",
        "g_big": "int64_t",
        "g_byte": "uint8_t",
        "g_ull": "unsigned long long",
        "g_color": "Color",
    }
    for name, spelled in expect.items():
        v = info.lookup_variable(name)
        assert v is not None and type_name(v.type) == spelled, name
    assert ptype(info.lookup_variable("g_big").type) == "long long"  # type: ignore[union-attr]
    # g_pi is folded into its uses: the linker left a tombstone address.
    pi = info.lookup_variable("g_pi")
    assert pi is not None and str(pi.location) == "optimized out"


def test_spelling_of_built_types() -> None:
    i = BaseType("int", 4, Encoding.SIGNED)
    ch = BaseType("char", 1, Encoding.SIGNED_CHAR)
    cch = QualifiedType("const", ch)
    fn = FunctionType(i, (i, PointerType(cch)), variadic=True)
    assert type_name(PointerType(fn)) == "int (*)(int, const char *, ...)"
    assert type_name(PointerType(ArrayType(i, 4))) == "int (*)[4]"
    assert type_name(QualifiedType("const", PointerType(ch))) == "char * const"
    assert (
        type_name(PointerType(QualifiedType("const", PointerType(cch)))) == "const char * const *"
    )
    assert type_name(ArrayType(ArrayType(i, 3), 2)) == "int [2][3]"
    assert type_name(ArrayType(i, None)) == "int []"
    assert type_name(FunctionType(VOID, ())) == "void (void)"
    assert declaration(PointerType(fn), "cb") == "int (*cb)(int, const char *, ...)"
    assert declaration(ArrayType(cch, 8), "name") == "const char name[8]"
    assert (
        type_name(PointerType(UnknownType("ptr_to_member_type", 4)))
        == "<unknown type: ptr_to_member_type> *"
    )
    anon = StructType("struct", None, 4, ())
    td = TypedefType("Anon", anon)
    assert type_name(td) == "Anon"
    assert ptype(td) == "struct {\n}"
