"""A small C-expression evaluator for ``print``, ``set var`` and breakpoint conditions.

Grammar (C precedence, loosest first)::

    expr     := assign (',' assign)*
    assign   := cond (('=' | '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '>>=') assign)?
    cond     := binary ('?' expr ':' cond)?
    binary   := unary (binop unary)*          ||  &&  |  ^  &  == !=  < <= > >=  << >>  + -  * / %
    unary    := ('-' | '+' | '!' | '~' | '*' | '&' | '++' | '--') unary
              | '(' type-name ')' unary | 'sizeof' unary | 'sizeof' '(' type-name ')'
              | postfix
    postfix  := primary ('[' expr ']' | '.' name | '->' name | '++' | '--')*
    primary  := integer | float | char | name | '(' expr ')'

Values are :class:`~wasmdbg.dwarf.cvalue.CValue`; names are looked up
through an :class:`EvalContext` (the debugger's view of one frame).  The C
rules that matter are kept: integer promotion and the usual arithmetic
conversions for wasm32 (``int``/``long``/pointers 4 bytes, ``long long`` 8),
pointer arithmetic scaled by the pointee size, arrays decaying to pointers,
``&`` only of values in linear memory, assignment converting to the
destination's type.  Errors raise :class:`~wasmdbg.dwarf.sections.DwarfError`
with gdb-like messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from .cvalue import (
    BOOL,
    CHAR,
    DOUBLE,
    FLOAT,
    INT,
    LONG,
    LONG_LONG,
    UNSIGNED_INT,
    UNSIGNED_LONG,
    UNSIGNED_LONG_LONG,
    CValue,
    Target,
    from_python,
    member_value,
    read_place,
    read_variable,
    write_value,
)
from .info import DebugInfo
from .locations import Place, PlaceKind
from .sections import DwarfError
from .types import (
    VOID,
    ArrayType,
    BaseType,
    CType,
    Encoding,
    EnumType,
    PointerType,
    StructType,
    VoidType,
    strip_typedefs,
    type_name,
)

__all__ = ["DebugContext", "EvalContext", "evaluate", "parse_type_name", "tokenize"]


class EvalContext(Protocol):
    """What the evaluator needs from the debugger (one frame)."""

    target: Target

    def variable(self, name: str) -> CValue | None:
        """The visible variable ``name`` (locals, then file scope, then globals)."""
        ...

    def type_named(self, name: str) -> CType | None:
        """A typedef, or ``struct X``/``union X``/``enum X``, by its C name."""
        ...

    def enumerator(self, name: str) -> CValue | None:
        """An enumeration constant by name."""
        ...


# -- tokens --------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<float>(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?[fFlL]?|\d+[eE][-+]?\d+[fFlL]?)
    | (?P<int>0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*)
    | (?P<char>'(?:\\.|\\[0-7]{1,3}|[^\\'])')
    | (?P<name>[A-Za-z_]\w*)
    | (?P<op><<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|[-+*/%&|^!~<>=?:,.\[\]()])
    )""",
    re.X,
)

_BASE_WORDS = {
    "unsigned",
    "signed",
    "int",
    "char",
    "short",
    "long",
    "float",
    "double",
    "_Bool",
    "void",
}
_QUALIFIER_WORDS = {"const", "volatile", "restrict"}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # int, float, char, name, op, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens (raises DwarfError on a character that is not C)."""
    out = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise DwarfError(f"Invalid character '{text[pos]}' in expression.")
        kind = m.lastgroup or "op"
        out.append(Token(kind, m.group(kind), m.start(kind)))
        pos = m.end()
    out.append(Token("end", "", len(text)))
    return out


_ESC = {
    "n": 10,
    "t": 9,
    "r": 13,
    "0": 0,
    "a": 7,
    "b": 8,
    "f": 12,
    "v": 11,
    "\\": 92,
    "'": 39,
    '"': 34,
    "e": 27,
}


def _char_value(text: str) -> int:
    body = text[1:-1]
    if body.startswith("\\"):
        rest = body[1:]
        if rest and all(c in "01234567" for c in rest):
            return int(rest, 8) & 0xFF
        if rest.startswith("x"):
            return int(rest[1:], 16) & 0xFF
        if rest in _ESC:
            return _ESC[rest]
        raise DwarfError(f"Unknown escape {body}")
    return ord(body) & 0xFF


# -- types --------------------------------------------------------------------------


def _base_from_words(words: list[str]) -> CType:
    ws = sorted(words)
    unsigned = "unsigned" in ws
    longs = ws.count("long")
    if "void" in ws:
        return VOID
    if "_Bool" in ws:
        return BOOL
    if "float" in ws:
        return FLOAT
    if "double" in ws:
        return DOUBLE if longs == 0 else BaseType("long double", 16, Encoding.FLOAT)
    if "char" in ws:
        if unsigned:
            return BaseType("unsigned char", 1, Encoding.UNSIGNED_CHAR)
        if "signed" in ws:
            return BaseType("signed char", 1, Encoding.SIGNED_CHAR)
        return CHAR
    if "short" in ws:
        return BaseType(
            "unsigned short" if unsigned else "short",
            2,
            Encoding.UNSIGNED if unsigned else Encoding.SIGNED,
        )
    if longs >= 2:
        return UNSIGNED_LONG_LONG if unsigned else LONG_LONG
    if longs == 1:
        return UNSIGNED_LONG if unsigned else LONG
    return UNSIGNED_INT if unsigned else INT


def parse_type_name(text: str, ctx: EvalContext) -> CType:
    """A C type name (``unsigned int``, ``struct point *``, ``Point``) as a type."""
    p = _Parser(tokenize(text), ctx)
    t = p.type_name()
    if t is None or p.peek().kind != "end":
        raise DwarfError(f'No symbol "{text.strip()}" in current context.')
    return t


# -- evaluation -----------------------------------------------------------------------


def evaluate(text: str, ctx: EvalContext) -> CValue:
    """Evaluate C expression ``text`` in ``ctx``; assignments write through the target."""
    p = _Parser(tokenize(text), ctx)
    if p.peek().kind == "end":
        raise DwarfError("Argument required (expression to compute).")
    v = p.expr()
    if p.peek().kind != "end":
        raise DwarfError(f"A syntax error in expression, near `{text[p.peek().pos :]}'.")
    if v.data is None and v.note != "optimized out":
        # An unreadable result is an error (gdb: "Cannot access memory at
        # address ..."); an optimized-out variable prints as such.
        raise DwarfError(v.note or "value unavailable")
    return v


def _int_value(t: CType, n: int) -> CValue:
    return from_python(t, n)


def _rank(t: BaseType) -> int:
    return t.size * 2 + (0 if t.is_signed else 1)


def _promote(t: CType) -> CType:
    core = strip_typedefs(t)
    if isinstance(core, EnumType):
        return INT if core.size <= 4 else LONG_LONG
    if isinstance(core, BaseType) and not core.is_float and core.size < 4:
        return INT
    return core


def _arith_type(a: CType, b: CType) -> CType:
    a, b = _promote(a), _promote(b)
    if not isinstance(a, BaseType) or not isinstance(b, BaseType):
        raise DwarfError("Argument to arithmetic operation not a number or boolean.")
    if a.is_float or b.is_float:
        if (a.is_float and a.size > 4) or (b.is_float and b.size > 4):
            return DOUBLE
        return FLOAT
    if a.size != b.size:
        return a if a.size > b.size else b
    if not a.is_signed:
        return a
    if not b.is_signed:
        return b
    return a if _rank(a) >= _rank(b) else b


def _is_scalar_number(t: CType) -> bool:
    core = strip_typedefs(t)
    return isinstance(core, BaseType | EnumType)


def _is_pointerish(t: CType) -> bool:
    return isinstance(strip_typedefs(t), PointerType | ArrayType)


def _truthy(v: CValue) -> bool:
    core = strip_typedefs(v.type)
    if isinstance(core, BaseType) and core.is_float:
        return v.as_float() != 0.0
    if isinstance(core, ArrayType):
        return True
    return v.as_int() != 0


class _Parser:
    """Recursive descent over the token list, evaluating as it parses."""

    def __init__(self, tokens: list[Token], ctx: EvalContext) -> None:
        self.tokens = tokens
        self.i = 0
        self.ctx = ctx

    # -- token helpers --
    def peek(self, k: int = 0) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def next(self) -> Token:
        t = self.peek()
        self.i += 1
        return t

    def accept(self, text: str) -> bool:
        if self.peek().kind == "op" and self.peek().text == text:
            self.i += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise DwarfError(f"A syntax error in expression, near `{self.peek().text}'.")

    # -- types --
    def _starts_type(self) -> bool:
        t = self.peek()
        if t.kind != "name":
            return False
        if (
            t.text in _BASE_WORDS
            or t.text in _QUALIFIER_WORDS
            or t.text in ("struct", "union", "enum")
        ):
            return True
        return self.ctx.variable(t.text) is None and self.ctx.type_named(t.text) is not None

    def type_name(self) -> CType | None:
        if not self._starts_type():
            return None
        words: list[str] = []
        base: CType | None = None
        while self.peek().kind == "name":
            w = self.peek().text
            if w in _QUALIFIER_WORDS:
                self.next()
            elif w in _BASE_WORDS and base is None:
                words.append(self.next().text)
            elif w in ("struct", "union", "enum") and base is None and not words:
                self.next()
                tag = self.next()
                if tag.kind != "name":
                    raise DwarfError(f"A syntax error in expression, near `{tag.text}'.")
                base = self.ctx.type_named(f"{w} {tag.text}")
                if base is None:
                    raise DwarfError(f"No {w} type named {tag.text}.")
            elif base is None and not words and self.ctx.type_named(w) is not None:
                base = self.ctx.type_named(self.next().text)
            else:
                break
        t: CType = base if base is not None else _base_from_words(words)
        while self.accept("*"):
            t = PointerType(t)
            while self.peek().kind == "name" and self.peek().text in _QUALIFIER_WORDS:
                self.next()
        return t

    # -- expressions --
    def expr(self) -> CValue:
        v = self.assign()
        while self.accept(","):
            v = self.assign()
        return v

    _ASSIGN = ("=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>=")

    def assign(self) -> CValue:
        left = self.cond()
        t = self.peek()
        if t.kind == "op" and t.text in self._ASSIGN:
            self.next()
            right = self.assign()
            if t.text != "=":
                right = self.binary_op(t.text[:-1], left, right)
            return write_value(left, self.convert(right, left.type), self.ctx.target)
        return left

    def cond(self) -> CValue:
        c = self.binary(0)
        if self.accept("?"):
            a = self.expr()
            self.expect(":")
            b = self.cond()
            return a if _truthy(c) else b
        return c

    _LEVELS: tuple[tuple[str, ...], ...] = (
        ("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", "<=", ">", ">="),
        ("<<", ">>"), ("+", "-"), ("*", "/", "%"),
    )  # fmt: skip

    def binary(self, level: int) -> CValue:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        ops = self._LEVELS[level]
        while self.peek().kind == "op" and self.peek().text in ops:
            op = self.next().text
            if op in ("||", "&&"):
                # NB: both sides are evaluated (no side effects but assignment,
                # which a condition should not contain).
                right = self.binary(level + 1)
                r = (
                    (_truthy(left) or _truthy(right))
                    if op == "||"
                    else (_truthy(left) and _truthy(right))
                )
                left = _int_value(INT, int(r))
                continue
            right = self.binary(level + 1)
            left = self.binary_op(op, left, right)
        return left

    def unary(self) -> CValue:
        t = self.peek()
        if t.kind == "op":
            if t.text in ("-", "+", "!", "~"):
                self.next()
                v = self.rvalue(self.unary())
                return self.unary_op(t.text, v)
            if t.text == "*":
                self.next()
                return self.deref(self.unary())
            if t.text == "&":
                self.next()
                return self.address_of(self.unary())
            if t.text in ("++", "--"):
                self.next()
                v = self.unary()
                one = _int_value(INT, 1)
                return write_value(
                    v, self.convert(self.binary_op(t.text[0], v, one), v.type), self.ctx.target
                )
            if t.text == "(":
                save = self.i
                self.next()
                cast = self.type_name()
                if cast is not None and self.accept(")"):
                    return self.convert(self.rvalue(self.unary()), cast)
                self.i = save
        if t.kind == "name" and t.text == "sizeof":
            self.next()
            if self.peek().text == "(":
                save = self.i
                self.next()
                st = self.type_name()
                if st is not None and self.accept(")"):
                    return _int_value(UNSIGNED_LONG, st.size)
                self.i = save
            v = self.unary()
            return _int_value(UNSIGNED_LONG, v.type.size)
        return self.postfix()

    def postfix(self) -> CValue:
        v = self.primary()
        while True:
            if self.accept("["):
                index = self.rvalue(self.expr())
                self.expect("]")
                v = self.deref(self.binary_op("+", v, index))
            elif self.accept("."):
                v = member_value(v, self._member_name())
            elif self.accept("->"):
                p = self.rvalue(v)
                if not isinstance(strip_typedefs(p.type), PointerType):
                    raise DwarfError(f"The -> operator needs a pointer, not {type_name(v.type)}.")
                v = member_value(self.deref(p), self._member_name())
            elif self.peek().kind == "op" and self.peek().text in ("++", "--"):
                op = self.next().text
                old = self.rvalue(v)
                one = _int_value(INT, 1)
                write_value(v, self.convert(self.binary_op(op[0], v, one), v.type), self.ctx.target)
                v = CValue(old.type, old.data)  # the value before, no longer an lvalue
            else:
                return v

    def _member_name(self) -> str:
        t = self.next()
        if t.kind != "name":
            raise DwarfError(f"A syntax error in expression, near `{t.text}'.")
        return t.text

    def primary(self) -> CValue:
        t = self.next()
        if t.kind == "int":
            return self.int_literal(t.text)
        if t.kind == "float":
            text = t.text.rstrip("lL")
            if text[-1] in "fF":
                return from_python(FLOAT, float(text[:-1]))
            return from_python(DOUBLE, float(text))
        if t.kind == "char":
            return _int_value(CHAR, _char_value(t.text))
        if t.kind == "name":
            if t.text in ("true", "false") and self.ctx.variable(t.text) is None:
                return _int_value(BOOL, int(t.text == "true"))
            v = self.ctx.variable(t.text)
            if v is None:
                v = self.ctx.enumerator(t.text)
            if v is None:
                raise DwarfError(f'No symbol "{t.text}" in current context.')
            return v
        if t.kind == "op" and t.text == "(":
            v = self.expr()
            self.expect(")")
            return v
        raise DwarfError(f"A syntax error in expression, near `{t.text}'.")

    def int_literal(self, text: str) -> CValue:
        digits = text.rstrip("uUlL")
        suffix = text[len(digits) :].lower()
        n = (
            int(digits, 16)
            if digits[:2].lower() == "0x"
            else int(digits, 8)
            if (len(digits) > 1 and digits[0] == "0")
            else int(digits)
        )
        unsigned = "u" in suffix
        longlong = suffix.count("l") >= 2
        decimal = not digits.lower().startswith("0")
        candidates = (
            [LONG_LONG, UNSIGNED_LONG_LONG]
            if longlong
            else [INT, UNSIGNED_INT, LONG_LONG, UNSIGNED_LONG_LONG]
        )
        for t in candidates:
            if unsigned and t.is_signed:
                continue
            if decimal and not unsigned and not t.is_signed:
                continue
            if n < (1 << (8 * t.size - (1 if t.is_signed else 0))):
                return _int_value(t, n)
        raise DwarfError(f"Numeric constant too large: {text}")

    # -- operations --
    def rvalue(self, v: CValue) -> CValue:
        """``v`` as an operand: arrays decay to a pointer to their first element."""
        core = strip_typedefs(v.type)
        if isinstance(core, ArrayType):
            addr = v.address
            if addr is None:
                raise DwarfError("Attempt to take address of value not located in memory.")
            return from_python(PointerType(core.element), addr)
        v.raw()
        return v

    def deref(self, p: CValue) -> CValue:
        p = self.rvalue(p)
        core = strip_typedefs(p.type)
        if not isinstance(core, PointerType):
            raise DwarfError("Attempt to take contents of a non-pointer value.")
        target = core.target
        if isinstance(strip_typedefs(target), VoidType):
            raise DwarfError("Attempt to take contents of a non-pointer value.")
        return read_place(target, Place(PlaceKind.MEMORY, p.as_int()), self.ctx.target)

    def address_of(self, v: CValue) -> CValue:
        if v.bits is not None:
            raise DwarfError("Attempt to take address of value not located in memory.")
        addr = v.address
        if addr is None:
            raise DwarfError("Attempt to take address of value not located in memory.")
        return from_python(PointerType(v.type), addr)

    def unary_op(self, op: str, v: CValue) -> CValue:
        if op == "!":
            return _int_value(INT, int(not _truthy(v)))
        t = _promote(v.type)
        if not isinstance(t, BaseType):
            raise DwarfError("Argument to arithmetic operation not a number or boolean.")
        if t.is_float:
            if op == "~":
                raise DwarfError("Argument to complement operation not an integer, boolean.")
            return from_python(t, -v.as_float() if op == "-" else v.as_float())
        n = v.as_int()
        return _int_value(t, -n if op == "-" else ~n if op == "~" else n)

    def binary_op(self, op: str, a: CValue, b: CValue) -> CValue:
        a, b = self.rvalue(a), self.rvalue(b)
        ta, tb = strip_typedefs(a.type), strip_typedefs(b.type)
        if isinstance(ta, PointerType) or isinstance(tb, PointerType):
            return self.pointer_op(op, a, b)
        t = _arith_type(a.type, b.type)
        if not isinstance(t, BaseType):
            raise DwarfError("Argument to arithmetic operation not a number or boolean.")
        if op in ("==", "!=", "<", "<=", ">", ">="):
            x: float | int
            y: float | int
            if t.is_float:
                x, y = a.as_float(), b.as_float()
            else:
                x, y = self._as(t, a), self._as(t, b)
            r = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
            return _int_value(INT, int(r))
        if t.is_float:
            if op not in ("+", "-", "*", "/"):
                raise DwarfError("Integer only operation.")
            x, y = a.as_float(), b.as_float()
            if op == "/":
                if y == 0.0:
                    return from_python(
                        t, float("inf") if x > 0 else float("-inf") if x < 0 else float("nan")
                    )
                return from_python(t, x / y)
            return from_python(t, x + y if op == "+" else x - y if op == "-" else x * y)
        if op in ("<<", ">>"):
            t = _promote(a.type)
            if not isinstance(t, BaseType):
                raise DwarfError("Argument to arithmetic operation not a number or boolean.")
            x, y = self._as(t, a), b.as_int()
            return _int_value(t, x << y if op == "<<" else x >> y)
        x, y = self._as(t, a), self._as(t, b)
        if op in ("/", "%"):
            if y == 0:
                raise DwarfError("Division by zero")
            q = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)  # C truncates toward zero
            return _int_value(t, q if op == "/" else x - q * y)
        value = {"+": x + y, "-": x - y, "*": x * y, "&": x & y, "|": x | y, "^": x ^ y}[op]
        return _int_value(t, value)

    @staticmethod
    def _as(t: BaseType, v: CValue) -> int:
        """``v``'s integer value converted to ``t`` (wrapping as C does)."""
        n = v.as_int()
        bits = 8 * t.size
        n &= (1 << bits) - 1
        if t.is_signed and n >> (bits - 1):
            n -= 1 << bits
        return n

    def pointer_op(self, op: str, a: CValue, b: CValue) -> CValue:
        ta, tb = strip_typedefs(a.type), strip_typedefs(b.type)
        if op in ("==", "!=", "<", "<=", ">", ">="):
            x, y = a.as_int(), b.as_int()
            r = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
            return _int_value(INT, int(r))
        if isinstance(ta, PointerType) and isinstance(tb, PointerType):
            if op != "-":
                raise DwarfError("Invalid operation on pointers.")
            size = strip_typedefs(ta.target).size or 1
            return _int_value(LONG, (a.as_int() - b.as_int()) // size)
        if op not in ("+", "-"):
            raise DwarfError("Argument to arithmetic operation not a number or boolean.")
        ptr, num = (a, b) if isinstance(ta, PointerType) else (b, a)
        if op == "-" and ptr is b:
            raise DwarfError("Invalid operation on pointers.")
        pt = strip_typedefs(ptr.type)
        size = (pt.target.size if isinstance(pt, PointerType) else 1) or 1
        n = num.as_int()
        addr = ptr.as_int() + (n if op == "+" else -n) * size
        return from_python(ptr.type, addr & 0xFFFF_FFFF)

    def convert(self, v: CValue, t: CType) -> CValue:
        """``v`` converted to type ``t`` (assignment or cast)."""
        v = self.rvalue(v)
        core = strip_typedefs(t)
        src = strip_typedefs(v.type)
        if isinstance(core, StructType | ArrayType):
            if src is core and v.data is not None:
                return CValue(t, v.data)
            raise DwarfError(f"Invalid cast to {type_name(t)}.")
        if isinstance(core, VoidType):
            return CValue(VOID, b"")
        if isinstance(core, PointerType):
            # NB: like gdb (unlike a C compiler), any integer converts to a pointer.
            return from_python(t, v.as_int() & 0xFFFF_FFFF)
        if isinstance(core, BaseType) and core.is_float:
            return from_python(t, v.as_float())
        if isinstance(core, BaseType) and core.encoding == Encoding.BOOLEAN:
            return from_python(t, int(_truthy(v)))
        if isinstance(core, BaseType | EnumType):
            if isinstance(src, BaseType) and src.is_float:
                return from_python(t, int(v.as_float()))
            return from_python(t, v.as_int())
        raise DwarfError(f"Invalid cast to {type_name(t)}.")


class DebugContext:
    """An :class:`EvalContext` over DWARF: the variables visible at ``pc`` in
    one frame, read through ``target``."""

    def __init__(self, info: DebugInfo, pc: int, target: Target) -> None:
        self.info = info
        self.pc = pc
        self.target = target
        f = info.function_at(pc)
        self.frame_base = f.frame_base if f is not None else None

    def variable(self, name: str) -> CValue | None:
        v = self.info.lookup_variable(name, self.pc)
        if v is None:
            return None
        return read_variable(v.type, v.location_at(self.pc), self.target, self.frame_base)

    def type_named(self, name: str) -> CType | None:
        builtin = _builtin_type(name)
        return builtin if builtin is not None else self.info.type_named(name, self.pc)

    def enumerator(self, name: str) -> CValue | None:
        found = self.info.enumerator(name, self.pc)
        if found is None:
            return None
        enum, value = found
        return from_python(enum, value)


def _builtin_type(name: str) -> CType | None:
    words = name.split()
    if words and all(w in _BASE_WORDS for w in words):
        return _base_from_words(words)
    return None
