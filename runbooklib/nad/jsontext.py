"""Strict JSON for `spec.config` and the networks annotation, with Go-compatible error texts.

Multus and the CNI plugins parse with Go's `encoding/json`, so the error a user will see in the
logs is Go's (`invalid character '}' looking for beginning of object key string`). `go_syntax_error`
is a small port of Go's scanner state machine that returns that exact text plus the byte offset;
`parse_strict` combines it with Python's parser (rejecting NaN/Infinity, which Go rejects too).
`repair_json` proposes a corrected document for the common hand-editing slips: trailing commas,
unclosed or mismatched brackets, single-quoted strings, missing commas between values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_SPACE = " \t\r\n"
_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"


@dataclass(frozen=True)
class JsonSyntaxProblem:
    """Where and why a JSON text is invalid: Go's message, byte offset, 1-based line/column."""

    message: str
    offset: int
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.message} (line {self.line}, column {self.column}, offset {self.offset})"


def _quote_char(c: str) -> str:
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    return "'" + json.dumps(c)[1:-1] + "'"


def _position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return line, column


def go_syntax_error(text: str) -> JsonSyntaxProblem | None:
    """Go's `encoding/json` syntax error for `text`, or None if the text is valid JSON."""
    scanner = _GoScanner(text)
    result = scanner.run()
    if result is None:
        return None
    message, offset = result
    line, column = _position(text, offset)
    return JsonSyntaxProblem(message, offset, line, column)


class _GoScanner:
    """Port of the states in Go's encoding/json/scanner.go that matter for error messages."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.stack: list[str] = []  # "key", "value", "array"

    def run(self) -> tuple[str, int] | None:
        t, i, n = self.text, 0, len(self.text)
        state = "begin_value"
        while i < n:
            c = t[i]
            err = None
            if state in ("begin_value", "begin_value_or_empty", "begin_string_or_empty", "begin_string"):
                if c in _SPACE:
                    i += 1
                    continue
                if state == "begin_value_or_empty" and c == "]":
                    state, err = self._end_value(c)
                elif state == "begin_string_or_empty" and c == "}":
                    self.stack[-1] = "value"
                    state, err = self._end_value(c)
                elif state in ("begin_string", "begin_string_or_empty"):
                    if c == '"':
                        i = self._string(i)
                        if isinstance(i, tuple):
                            return i
                        state = "end_value"
                        continue
                    err = "looking for beginning of object key string"
                else:
                    state, i, err2 = self._value_start(i)
                    if err2:
                        return err2
                    continue
            elif state == "end_value":
                if c in _SPACE:
                    i += 1
                    continue
                state, err = self._end_value(c)
            elif state == "end_top":
                if c not in _SPACE:
                    err = "after top-level value"
            if err:
                return f"invalid character {_quote_char(c)} {err}", i
            i += 1
        if state == "end_top" or (state == "end_value" and not self.stack):
            return None
        return "unexpected end of JSON input", n

    def _end_value(self, c: str) -> tuple[str, str | None]:
        if not self.stack:
            return "end_top", None if c in _SPACE else "after top-level value"
        top = self.stack[-1]
        if top == "key":
            if c == ":":
                self.stack[-1] = "value"
                return "begin_value", None
            return "end_value", "after object key"
        if top == "value":
            if c == ",":
                self.stack[-1] = "key"
                return "begin_string", None
            if c == "}":
                self.stack.pop()
                return ("end_value" if self.stack else "end_top"), None
            return "end_value", "after object key:value pair"
        if c == ",":
            return "begin_value", None
        if c == "]":
            self.stack.pop()
            return ("end_value" if self.stack else "end_top"), None
        return "end_value", "after array element"

    def _value_start(self, i: int) -> tuple[str, int, tuple[str, int] | None]:
        t, c = self.text, self.text[i]
        if c == "{":
            self.stack.append("key")
            return "begin_string_or_empty", i + 1, None
        if c == "[":
            self.stack.append("array")
            return "begin_value_or_empty", i + 1, None
        if c == '"':
            j = self._string(i)
            if isinstance(j, tuple):
                return "", i, j
            return "end_value", j, None
        if c == "-" or c in _DIGITS:
            j = self._number(i)
            if isinstance(j, tuple):
                return "", i, j
            return "end_value", j, None
        for word in ("true", "false", "null"):
            if c == word[0]:
                for k, expect in enumerate(word[1:], start=1):
                    if i + k >= len(t):
                        return "", i, ("unexpected end of JSON input", len(t))
                    if t[i + k] != expect:
                        return "", i, (f"invalid character {_quote_char(t[i + k])} in literal {word} (expecting '{expect}')", i + k)
                return "end_value", i + len(word), None
        return "", i, (f"invalid character {_quote_char(c)} looking for beginning of value", i)

    def _string(self, i: int) -> int | tuple[str, int]:
        t, n = self.text, len(self.text)
        j = i + 1
        while j < n:
            c = t[j]
            if c == '"':
                return j + 1
            if c == "\\":
                if j + 1 >= n:
                    break
                e = t[j + 1]
                if e in 'bfnrt\\/"':
                    j += 2
                    continue
                if e == "u":
                    for k in range(4):
                        if j + 2 + k >= n:
                            return "unexpected end of JSON input", n
                        if t[j + 2 + k] not in _HEX:
                            return f"invalid character {_quote_char(t[j + 2 + k])} in \\u hexadecimal character escape", j + 2 + k
                    j += 6
                    continue
                return f"invalid character {_quote_char(e)} in string escape code", j + 1
            if ord(c) < 0x20:
                return f"invalid character {_quote_char(c)} in string literal", j
            j += 1
        return "unexpected end of JSON input", n

    def _number(self, i: int) -> int | tuple[str, int]:
        t, n = self.text, len(self.text)
        j = i
        if t[j] == "-":
            j += 1
            if j >= n:
                return "unexpected end of JSON input", n
            if t[j] not in _DIGITS:
                return f"invalid character {_quote_char(t[j])} in numeric literal", j
        if t[j] == "0":
            j += 1
        else:
            while j < n and t[j] in _DIGITS:
                j += 1
        if j < n and t[j] == ".":
            j += 1
            if j >= n:
                return "unexpected end of JSON input", n
            if t[j] not in _DIGITS:
                return f"invalid character {_quote_char(t[j])} after decimal point in numeric literal", j
            while j < n and t[j] in _DIGITS:
                j += 1
        if j < n and t[j] in "eE":
            j += 1
            if j < n and t[j] in "+-":
                j += 1
            if j >= n:
                return "unexpected end of JSON input", n
            if t[j] not in _DIGITS:
                return f"invalid character {_quote_char(t[j])} in exponent of numeric literal", j
            while j < n and t[j] in _DIGITS:
                j += 1
        return j


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_strict(text: str) -> tuple[Any, JsonSyntaxProblem | None]:
    """Parse like Go would: (value, None) or (None, problem)."""
    problem = go_syntax_error(text)
    if problem is not None:
        return None, problem
    try:
        return json.loads(text, parse_constant=_reject_constant), None
    except ValueError as e:  # pragma: no cover - the scanner above should have caught it
        offset = getattr(e, "pos", 0) or 0
        line, column = _position(text, offset)
        return None, JsonSyntaxProblem(str(e), offset, line, column)


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<dstring>"(?:[^"\\]|\\.)*")
  | (?P<sstring>'(?:[^'\\]|\\.)*')
  | (?P<punct>[{}\[\]:,])
  | (?P<word>[^\s{}\[\]:,"']+)
""", re.VERBOSE | re.DOTALL)


def _tokens(text: str) -> list[tuple[str, str]] | None:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # an unterminated string
            return None
        kind = m.lastgroup or ""
        if kind != "space":
            value = m.group()
            if kind == "sstring":
                value = json.dumps(value[1:-1].replace("\\'", "'"))
                kind = "dstring"
            out.append((kind, value))
        pos = m.end()
    return out


def repair_json(text: str) -> Any | None:
    """A best-effort corrected value for a broken JSON text, or None if no safe guess exists.

    Fixes trailing commas, closers that do not match (inserting the missing ones), unclosed
    brackets at the end, single quotes, and missing commas between two values.
    """
    tokens = _tokens(text)
    if tokens is None:
        return None
    pairs = {"}": "{", "]": "["}
    closer = {"{": "}", "[": "]"}
    out: list[str] = []
    stack: list[str] = []
    for kind, value in tokens:
        if kind == "punct" and value in "}]":
            if pairs[value] not in stack:
                continue  # a stray closer: drop it
            while out and out[-1] == ",":
                out.pop()
            while stack[-1] != pairs[value]:
                out.append(closer[stack.pop()])
            stack.pop()
            out.append(value)
            continue
        if kind == "punct" and value == ",":
            if out and out[-1] not in ("{", "[", ",", ":"):
                out.append(",")
            continue
        if kind == "punct" and value == ":":
            out.append(":")
            continue
        # a value or an opener: insert a comma if two values touch
        if out and out[-1] not in ("{", "[", ",", ":"):
            out.append(",")
        out.append(value)
        if value in closer:
            stack.append(value)
    while out and out[-1] == ",":
        out.pop()
    while stack:
        out.append(closer[stack.pop()])
    candidate = "".join(out)
    value, problem = parse_strict(candidate)
    return None if problem is not None else value
