#!/usr/bin/env python3
"""Lists import circles between the files of each crate: file A names an item of file B
(through a `crate::` or `super::` path) and B, directly or through others, names one of A.

Usage: scripts/import-circles.py [crates/NAME/src ...]   (default: every crate)
Exits 1 when a circle is found, printing its files and the uses that close it.

A heuristic, not a compiler: a path is resolved to the deepest module *file* it names
(`crate::query::Foo` is `query/mod.rs` unless `query/foo.rs` exists), so a re-export
counts as a use of the re-exporting file. `mod x;` declarations are not uses; comments
and the `#[cfg(test)] mod tests { ... }` block are skipped. The fix for a circle is to
move what both files need into a module that neither imports back (DEVELOPERS.md)."""
import os, re, sys

def modules(src):
    files = {}
    for root, _, names in os.walk(src):
        for n in names:
            if not n.endswith('.rs'): continue
            p = os.path.join(root, n)
            rel = os.path.relpath(p, src)[:-3].split(os.sep)
            if rel[-1] in ('lib', 'main', 'mod'): rel = rel[:-1]
            files[tuple(rel)] = p
    return files

def strip_tests(text):
    m = re.search(r'#\[cfg\(test\)\]\s*mod tests\s*\{', text)
    if not m: return text
    # drop the balanced block
    i = m.end(); depth = 1
    while i < len(text) and depth:
        if text[i] == '{': depth += 1
        elif text[i] == '}': depth -= 1
        i += 1
    return text[:m.start()] + text[i:]

def strip_comments(text):
    text = re.sub(r'//[^\n]*', '', text)
    return text

def paths(text):
    # expand `use a::{b, c::{d}}` roughly: collect every crate::/super:: path prefix with
    # its brace group's first-level names.
    out = []
    for m in re.finditer(r'\b(crate|super)((?:::(?:super|[A-Za-z_][A-Za-z0-9_]*))*)(::\{)?', text):
        base = [m.group(1)] + [s for s in m.group(2).split('::') if s]
        if m.group(3):
            # read the brace group
            i = m.end(); depth = 1; start = i
            while depth and i < len(text):
                if text[i] == '{': depth += 1
                elif text[i] == '}': depth -= 1
                i += 1
            inner = text[start:i-1]
            # split at top level commas
            parts, d, cur = [], 0, ''
            for ch in inner:
                if ch == '{': d += 1
                if ch == '}': d -= 1
                if ch == ',' and d == 0: parts.append(cur); cur = ''
                else: cur += ch
            parts.append(cur)
            for p in parts:
                p = p.strip()
                if not p: continue
                names = re.match(r'([A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)*)', p)
                if names: out.append(base + names.group(1).split('::'))
                else: out.append(base)
        else:
            out.append(base)
    return out

def resolve(mod, path, files):
    if path[0] == 'crate': cur = []; rest = path[1:]
    else:
        cur = list(mod); rest = path
        while rest and rest[0] == 'super':
            cur = cur[:-1]; rest = rest[1:]
    best = tuple(cur)
    for s in rest:
        cur = cur + [s]
        if tuple(cur) in files: best = tuple(cur)
        else: break
    return best if best in files else None

def main(src, only=None):
    files = modules(src)
    edges = {m: set() for m in files}
    for m, p in files.items():
        text = strip_comments(strip_tests(open(p).read()))
        # a mod.rs's `super` is its parent; a plain file's too (it is the module itself)
        for path in paths(text):
            t = resolve(m, path, files)
            if t is not None and t != m:
                edges[m].add(t)
    # strongly connected components (Tarjan)
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in edges[v]:
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            c = []
            while True:
                w = stack.pop(); on.discard(w); c.append(w)
                if w == v: break
            if len(c) > 1: sccs.append(c)
    for v in files:
        if v not in index: visit(v)
    name = lambda m: os.path.relpath(files[m], src)
    for c in sccs:
        cs = set(c)
        print('circle:', ', '.join(sorted(name(m) for m in c)))
        for m in sorted(c):
            for t in sorted(edges[m] & cs):
                print('   ', name(m), '->', name(t))
    return len(sccs)

if __name__ == '__main__':
    total = 0
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    srcs = sys.argv[1:] or sorted(
        os.path.join(root, 'crates', c, 'src') for c in os.listdir(os.path.join(root, 'crates')))
    for src in srcs:
        print('==', os.path.relpath(src, root))
        total += main(src)
    sys.exit(1 if total else 0)
