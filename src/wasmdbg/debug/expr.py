"""The debugger's expression language: a small C-expression parser (no evaluation).

``print``, ``set var``, ``display`` and breakpoint conditions take C
expressions, as in gdb.  This module turns text into a tree of frozen
:class:`Node` records; what the names and operators *mean* is up to an
evaluator (Wasm-level values in :mod:`.source`, C values over DWARF types).

Grammar, loosest binding first (all binary operators left-associative except
``=`` and ``?:``)::

    expr     := assign
    assign   := cond ( '=' assign )?
    cond     := at ( '?' expr ':' cond )?
    at       := or ( '@' or )*             gdb's artificial array: LVALUE@COUNT
    or       := and ( '||' and )*          and := bitor ( '&&' bitor )*
    bitor    := bitxor ( '|' bitxor )*     bitxor := bitand ( '^' bitand )*
    bitand   := equal ( '&' equal )*       equal := rel ( ('=='|'!=') rel )*
    rel      := shift ( ('<'|'<='|'>'|'>=') shift )*
    shift    := add ( ('<<'|'>>') add )*   add := mul ( ('+'|'-') mul )*
    mul      := unary ( ('*'|'/'|'%') unary )*
    unary    := ('-'|'+'|'!'|'~'|'*'|'&') unary | 'sizeof' unary
              | '(' TYPE ')' unary | '{' TYPE '}' unary | postfix
    postfix  := primary ( '[' expr ']' | '.' NAME | '->' NAME )*
    primary  := NUMBER | CHAR | STRING | NAME | '$'NAME | '$'DIGITS | '$' | '(' expr ')'

``(TYPE)`` is a cast only when the parenthesised words name a type: the
caller passes ``is_type`` (base type names are always types).  ``{TYPE} addr``
is gdb's "the TYPE object at address addr".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import DebugError

__all__ = [
    "Binary",
    "Cast",
    "Conditional",
    "Index",
    "Member",
    "Name",
    "Node",
    "Number",
    "Str",
    "TypeName",
    "Unary",
    "parse_expression",
]


@dataclass(frozen=True, slots=True)
class Number:
    """An integer, floating-point or character literal (``is_char`` for ``'a'``)."""

    value: int | float
    is_char: bool = False


@dataclass(frozen=True, slots=True)
class Str:
    """A string literal."""

    value: bytes


@dataclass(frozen=True, slots=True)
class Name:
    """A variable, or a ``$``-name (convenience / register / history: ``$pc``, ``$1``)."""

    name: str


@dataclass(frozen=True, slots=True)
class TypeName:
    """A type as written: base words, then ``*`` per pointer level (``unsigned int *``)."""

    words: tuple[str, ...]
    pointers: int = 0

    def __str__(self) -> str:
        return " ".join(self.words) + (" " + "*" * self.pointers if self.pointers else "")


@dataclass(frozen=True, slots=True)
class Unary:
    """``op operand`` for ``- + ! ~ * & sizeof``."""

    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right`` (``=`` is assignment)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional:
    """``test ? then : other``."""

    test: Node
    then: Node
    other: Node


@dataclass(frozen=True, slots=True)
class Cast:
    """``(type) operand``, or with ``at_address`` gdb's ``{type} operand``."""

    type: TypeName
    operand: Node
    at_address: bool = False


@dataclass(frozen=True, slots=True)
class Index:
    """``base[index]``."""

    base: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Member:
    """``base.name`` or (``arrow``) ``base->name``."""

    base: Node
    name: str
    arrow: bool = False


Node = Number | Str | Name | Unary | Binary | Conditional | Cast | Index | Member

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<float>(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?[fF]?|\d+[eE][-+]?\d+[fF]?)
  | (?P<int>0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)(?P<suffix>[uUlL]*)
  | (?P<char>'(?:\\.|[^\\'])+')
  | (?P<str>"(?:\\.|[^\\"])*")
  | (?P<name>\$?[A-Za-z_][A-Za-z_0-9]*|\$\d+|\$\$?\d*)
  | (?P<op>->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%<>=!~&|^?:()\[\]{}.,@])
    """,
    re.VERBOSE,
)

#: Words that always start a type name.
BASE_TYPE_WORDS = frozenset(
    ["void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool", "bool", "struct", "union", "enum", "const", "volatile", "i8", "u8", "i16", "u16", "i32", "u32", "i64", "u64", "f32", "f64"]
)

_ESCAPES = {"n": 10, "t": 9, "r": 13, "0": 0, "\\": 92, "'": 39, '"': 34, "a": 7, "b": 8, "f": 12, "v": 11}

_BINARY: list[tuple[str, ...]] = [
    ("@",),
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", "<=", ">", ">="),
    ("<<", ">>"),
    ("+", "-"),
    ("*", "/", "%"),
]


def _unescape(body: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt == "x":
                m = re.match(r"[0-9a-fA-F]{1,2}", body[i + 2 :])
                if m:
                    out.append(int(m.group(), 16))
                    i += 2 + len(m.group())
                    continue
            out.append(_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out.extend(c.encode())
        i += 1
    return bytes(out)


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise DebugError(f"invalid character {text[pos]!r} in expression")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind == "ws":
            continue
        if kind == "suffix":
            kind = "int"
        tok = m.group(kind) if kind != "int" else m.group("int")
        out.append((kind, tok))
    return out


class _Parser:
    def __init__(self, text: str, is_type: Callable[[str], bool]) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.is_type = is_type

    def peek(self, k: int = 0) -> tuple[str, str]:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.i += 1
        return tok

    def accept(self, op: str) -> bool:
        kind, tok = self.peek()
        if kind == "op" and tok == op:
            self.i += 1
            return True
        return False

    def expect(self, op: str) -> None:
        if not self.accept(op):
            got = self.peek()[1] or "end of expression"
            raise DebugError(f"expected {op!r} in expression, got {got!r}")

    def expression(self) -> Node:
        left = self.conditional()
        if self.accept("="):
            return Binary("=", left, self.expression())
        return left

    def conditional(self) -> Node:
        test = self.binary(0)
        if self.accept("?"):
            then = self.expression()
            self.expect(":")
            return Conditional(test, then, self.conditional())
        return test

    def binary(self, level: int) -> Node:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        ops = _BINARY[level]
        while True:
            kind, tok = self.peek()
            if kind == "op" and tok in ops:
                self.i += 1
                left = Binary(tok, left, self.binary(level + 1))
            else:
                return left

    def starts_type(self, k: int = 0) -> bool:
        kind, tok = self.peek(k)
        return kind == "name" and (tok in BASE_TYPE_WORDS or self.is_type(tok))

    def type_name(self) -> TypeName:
        words: list[str] = []
        while True:
            kind, tok = self.peek()
            if kind != "name" or tok.startswith("$"):
                break
            if words and words[-1] not in ("struct", "union", "enum") and not (
                tok in BASE_TYPE_WORDS or (not words and self.is_type(tok))
            ):
                break
            words.append(tok)
            self.i += 1
        if not words:
            raise DebugError("expected a type name")
        pointers = 0
        while self.accept("*"):
            pointers += 1
        return TypeName(tuple(words), pointers)

    def unary(self) -> Node:
        kind, tok = self.peek()
        if kind == "op" and tok in ("-", "+", "!", "~", "*", "&"):
            self.i += 1
            return Unary(tok, self.unary())
        if kind == "name" and tok == "sizeof":
            self.i += 1
            if self.peek() == ("op", "(") and self.starts_type(1):
                self.i += 1
                ty = self.type_name()
                self.expect(")")
                return Unary("sizeof", Cast(ty, Number(0)))
            return Unary("sizeof", self.unary())
        if kind == "op" and tok == "(" and self.starts_type(1):
            self.i += 1
            ty = self.type_name()
            self.expect(")")
            return Cast(ty, self.unary())
        if kind == "op" and tok == "{":
            self.i += 1
            ty = self.type_name()
            self.expect("}")
            return Cast(ty, self.unary(), at_address=True)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.accept("["):
                index = self.expression()
                self.expect("]")
                node = Index(node, index)
            elif self.accept("."):
                node = Member(node, self.member_name())
            elif self.accept("->"):
                node = Member(node, self.member_name(), arrow=True)
            else:
                return node

    def member_name(self) -> str:
        kind, tok = self.take()
        if kind != "name" or tok.startswith("$"):
            raise DebugError("expected a member name after '.' or '->'")
        return tok

    def primary(self) -> Node:
        kind, tok = self.take()
        if kind == "int":
            return Number(int(tok, 0) if not (len(tok) > 1 and tok[0] == "0" and tok[1].isdigit()) else int(tok, 8))
        if kind == "float":
            return Number(float(tok.rstrip("fF")))
        if kind == "char":
            data = _unescape(tok[1:-1])
            if len(data) != 1:
                raise DebugError(f"bad character literal {tok}")
            return Number(data[0], is_char=True)
        if kind == "str":
            return Str(_unescape(tok[1:-1]))
        if kind == "name":
            return Name(tok)
        if kind == "op" and tok == "(":
            node = self.expression()
            self.expect(")")
            return node
        raise DebugError(f"unexpected {tok or 'end of expression'!r} in expression")


def parse_expression(text: str, is_type: Callable[[str], bool] = lambda _name: False) -> Node:
    """Parse one C expression; ``is_type(word)`` says which words name types (typedefs)."""
    if not text.strip():
        raise DebugError("an expression is required")
    parser = _Parser(text, is_type)
    node = parser.expression()
    if parser.peek()[0] != "end":
        raise DebugError(f"junk {parser.peek()[1]!r} at the end of the expression")
    return node
