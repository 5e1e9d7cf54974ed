#!/usr/bin/env python3
"""Fails when modules of a crate import each other, directly or round a longer
cycle. Reads every crates/*/src tree: a module's imports are the `crate::…`
and `super::…` paths in its code (test code left out), resolved to the module
that defines them; names the crate root re-exports (`pub use m::Name`) count
as imports of `m`. Cycles listed in scripts/module-cycles.allow (known, to
be broken) pass while they do not grow; any other fails.
Usage: scripts/module-cycles.py [CRATES_DIR]"""

import re
import sys
from pathlib import Path

PATH = re.compile(r"\b(crate|super)((?:::\s*[A-Za-z_][A-Za-z0-9_]*)+|::\s*\{)")
GROUP = re.compile(r"\b(crate|super)::\s*\{([^}]*)\}", re.S)


def code_of(text):
    """The text without comments, string literals and `#[cfg(test)]` items."""
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'r#*"(?:.|\n)*?"#*', '""', text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]", text):
        if m.start() < i:
            continue
        out.append(text[i : m.start()])
        j = m.end()
        semi, brace = text.find(";", j), text.find("{", j)
        if brace == -1 or (semi != -1 and semi < brace):
            i = semi + 1
            continue
        depth, j = 0, brace
        while j < len(text):
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
            if depth == 0:
                break
        i = j
    out.append(text[i:])
    return "".join(out)


def modules(src):
    """Module path (tuple) -> file, for the files of one crate's src/."""
    found = {}
    for f in src.rglob("*.rs"):
        rel = f.relative_to(src).with_suffix("").parts
        if rel in (("lib",), ("main",)):
            found[()] = found.get((), f) if rel == ("main",) else f
        elif rel[0] == "bin":
            continue
        elif rel[-1] == "mod":
            found[rel[:-1]] = f
        else:
            found[rel] = f
    return found


def test_only(mods):
    """Modules declared under `#[cfg(test)]`."""
    out = set()
    for path, f in mods.items():
        for m in re.finditer(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", f.read_text()):
            out.add(path + (m.group(1),))
    return out


def reexports(root_code):
    """Names the crate root re-exports -> the top-level module they come from."""
    names = {}
    for m in re.finditer(r"pub\s+use\s+(\w+)::([^;]+);", root_code):
        for name in re.findall(r"\b(\w+)\b", m.group(2)):
            names.setdefault(name, m.group(1))
    return names


def resolve(segments, mods, names):
    """The longest known module that `segments` (from the crate root) names."""
    for n in range(len(segments), 0, -1):
        if tuple(segments[:n]) in mods:
            return tuple(segments[:n])
    if segments and segments[0] in names:
        return (names[segments[0]],)
    return None


def edges_of(path, code, mods, names):
    parent = path[:-1]
    targets = set()

    def add(kind, rest):
        base = [] if kind == "crate" else list(parent)
        target = resolve(base + rest, mods, names)
        if target and target != path and target != ():
            targets.add(target)

    for m in GROUP.finditer(code):
        for item in m.group(2).split(","):
            rest = [s for s in re.split(r"\s*::\s*", item.strip()) if re.fullmatch(r"\w+", s)]
            add(m.group(1), rest)
    for m in PATH.finditer(code):
        rest = [s.strip() for s in m.group(2).split("::") if s.strip() and s.strip() != "{"]
        add(m.group(1), rest)
    # A module's own submodules are its parts, not imports.
    return {t for t in targets if t[: len(path)] != path}


def cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def allowed():
    """crate -> sets of modules whose cycle is known (`crate: a b c` lines)."""
    path = Path(__file__).with_name("module-cycles.allow")
    known = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        line = line.split("#")[0].strip()
        if ":" in line:
            crate, mods = line.split(":", 1)
            known.setdefault(crate.strip(), []).append({tuple(m.split("::")) for m in mods.split()})
    return known


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "crates")
    known = allowed()
    failed = False
    for src in sorted(root.glob("*/src")):
        mods = modules(src)
        tests = test_only(mods)
        mods = {p: f for p, f in mods.items() if not any(p[: len(t)] == t for t in tests)}
        root_file = mods.get(())
        names = reexports(code_of(root_file.read_text())) if root_file else {}
        graph = {p: edges_of(p, code_of(f.read_text()), mods, names) for p, f in mods.items() if p}
        for comp in cycles(graph):
            members = set(comp)
            if any(members <= k for k in known.get(src.parent.name, [])):
                print(f"{src.parent.name}: known module cycle (to break): {' <-> '.join('::'.join(p) for p in comp)}")
                continue
            failed = True
            print(f"{src.parent.name}: module cycle: {' <-> '.join('::'.join(p) for p in comp)}")
            for p in comp:
                for t in sorted(graph[p] & members):
                    print(f"    {'::'.join(p)} imports {'::'.join(t)}")
    if failed:
        sys.exit(1)
    print("no new module cycles")


if __name__ == "__main__":
    main()
