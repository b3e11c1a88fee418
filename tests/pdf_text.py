"""The text layer of a PDF as vl-convert (svg2pdf) writes it, for tests: no PDF library needed.

Its pages draw text with `/font size Tf` and `(...) Tj` (two-byte glyph ids of
Type0 fonts with Identity-H encoding), and each font has a ToUnicode CMap. This
reads just that: objects, Flate streams, bfchar/bfrange maps, Tf and Tj/TJ.
"""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def _objects(pdf: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2) for m in _OBJECT.finditer(pdf)}


def _stream(body: bytes) -> bytes:
    found = _STREAM.search(body)
    if not found:
        return b""
    data = found.group(1)
    return zlib.decompress(data) if b"/FlateDecode" in body[: found.start()] else data


def _cmap(text: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(src, 16)] = bytes.fromhex(dst.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for lo, hi, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            start = int(dst, 16)
            for i, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(start + i)
    return mapping


def _literal(raw: bytes) -> bytes:
    """A PDF literal string's bytes (backslash escapes resolved)."""
    out, i = bytearray(), 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C:  # backslash
            nxt = raw[i + 1 : i + 4]
            octal = re.match(rb"[0-7]{1,3}", nxt)
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(nxt[:1], nxt[:1])
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def pdf_text(pdf: bytes) -> str:
    """Every glyph drawn, in drawing order, as Unicode (no spacing between items)."""
    objects = _objects(pdf)
    fonts: dict[bytes, dict[int, str]] = {}
    for body in objects.values():
        for name, ref in re.findall(rb"/(\w+) (\d+) 0 R", body):
            font = objects.get(int(ref), b"")
            unicode = re.search(rb"/ToUnicode (\d+) 0 R", font)
            if b"/Type /Font" in font and unicode:
                fonts[name] = _cmap(_stream(objects[int(unicode.group(1))]))
    text = []
    for body in objects.values():
        content = _stream(body) if b"stream" in body else b""
        if b"Tf" not in content:
            continue
        current: dict[int, str] = {}
        for font, string in re.findall(rb"/(\w+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) ?Tj", content):
            if font:
                current = fonts.get(font, {})
                continue
            data = _literal(string)
            text += [current.get(int.from_bytes(data[i : i + 2], "big"), "") for i in range(0, len(data) - 1, 2)]
    return "".join(text)
