#!/usr/bin/env python3
"""Converts `tmux capture-pane -e -p` output (text with SGR escapes) to an SVG screenshot.

Usage: ansi2svg.py INPUT.ansi OUTPUT.svg [COLUMNS ROWS]
Only the standard library; handles the SGR codes slirpmon's curses output uses
(bold, dim, underline, reverse, 8/16/256 colours, default colours).
"""
import html
import re
import sys

PALETTE = ["#1e1e1e", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
           "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"]
FG, BG = "#d4d4d4", "#1e1e1e"


def color256(n):
    if n < 16:
        return PALETTE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    v = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (v, v, v)


def parse(text):
    """Yields rows of (char, style) cells; style = (fg, bg, bold, dim, underline, reverse)."""
    rows = []
    style = dict(fg=None, bg=None, bold=False, dim=False, underline=False, reverse=False)
    for line in text.split("\n"):
        cells = []
        for part in re.split(r"(\x1b\[[0-9;]*m)", line):
            if part.startswith("\x1b["):
                codes = [int(c) if c else 0 for c in part[2:-1].split(";")] or [0]
                i = 0
                while i < len(codes):
                    c = codes[i]
                    if c == 0:
                        style = dict(fg=None, bg=None, bold=False, dim=False, underline=False, reverse=False)
                    elif c == 1: style["bold"] = True
                    elif c == 2: style["dim"] = True
                    elif c == 4: style["underline"] = True
                    elif c == 7: style["reverse"] = True
                    elif c == 22: style["bold"] = style["dim"] = False
                    elif c == 24: style["underline"] = False
                    elif c == 27: style["reverse"] = False
                    elif 30 <= c <= 37: style["fg"] = c - 30
                    elif c == 39: style["fg"] = None
                    elif 40 <= c <= 47: style["bg"] = c - 40
                    elif c == 49: style["bg"] = None
                    elif 90 <= c <= 97: style["fg"] = c - 90 + 8
                    elif 100 <= c <= 107: style["bg"] = c - 100 + 8
                    elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                        style["fg" if c == 38 else "bg"] = codes[i + 2]
                        i += 2
                    i += 1
            else:
                part = re.sub(r"\x1b[^a-zA-Z]*[a-zA-Z]", "", part)
                for ch in part:
                    cells.append((ch, tuple(sorted(style.items()))))
        rows.append(cells)
    return rows


def colors(style):
    s = dict(style)
    fg = color256(s["fg"]) if s["fg"] is not None else FG
    bg = color256(s["bg"]) if s["bg"] is not None else None
    if s["bold"] and s["fg"] is not None and s["fg"] < 8:
        fg = PALETTE[s["fg"] + 8]
    if s["reverse"]:
        fg, bg = (bg or BG), fg
    if s["dim"]:
        fg = "#888888"
    return fg, bg, s["bold"], s["underline"]


def wide(ch):
    o = ord(ch)
    return 2 if (0x1100 <= o <= 0x115F or 0x2E80 <= o <= 0xA4CF or 0xAC00 <= o <= 0xD7A3 or 0xF900 <= o <= 0xFAFF
                 or 0xFF00 <= o <= 0xFF60 or 0x1F300 <= o <= 0x1F64F or 0x1F900 <= o <= 0x1F9FF) else 1


def main():
    src, dst = sys.argv[1], sys.argv[2]
    text = open(src, encoding="utf-8", errors="replace").read()
    rows = parse(text.rstrip("\n"))
    cols = int(sys.argv[3]) if len(sys.argv) > 3 else max(len(r) for r in rows)
    nrows = int(sys.argv[4]) if len(sys.argv) > 4 else len(rows)
    cw, ch, pad = 8.4, 18, 10
    width, height = cols * cw + 2 * pad, nrows * ch + 2 * pad
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">' % (width, height, width, height),
           '<rect width="100%%" height="100%%" rx="6" fill="%s"/>' % BG,
           '<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14" xml:space="preserve">']
    for y, cells in enumerate(rows[:nrows]):
        x = 0
        runs = []  # (x, text, style)
        for char, style in cells:
            if runs and runs[-1][2] == style and runs[-1][0] + runs[-1][3] == x:
                runs[-1] = (runs[-1][0], runs[-1][1] + char, style, runs[-1][3] + wide(char))
            else:
                runs.append((x, char, style, wide(char)))
            x += wide(char)
        for rx, text, style, w in runs:
            fg, bg, bold, underline = colors(style)
            px, py = pad + rx * cw, pad + y * ch
            if bg:
                out.append('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>' % (px, py, w * cw, ch, bg))
            if text.strip():
                attrs = ' font-weight="bold"' if bold else ""
                attrs += ' text-decoration="underline"' if underline else ""
                out.append('<text x="%.1f" y="%d" fill="%s" textLength="%.1f"%s>%s</text>'
                           % (px, py + 14, fg, w * cw, attrs, html.escape(text)))
    out.append("</g></svg>")
    open(dst, "w", encoding="utf-8").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
