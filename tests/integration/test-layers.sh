#!/bin/bash
# The architecture's arrows, from the #include lines of src/: layers point down only (basic <- common
# <- {builder, agent}; builder and agent never include each other; no builder folder but cli/
# includes cli/), there is no include cycle among
# modules (a module is a .c and its .h, NAME-internal.h belongs to NAME), and each external library's headers are included by its
# wrapper alone. Prints every violation and fails if there is one. SRC=DIR checks another tree.
set -euo pipefail

src=${SRC:-${SRCDIR:-$(dirname "$0")/../..}/src}
[ -d "$src" ] || { echo "no source tree at $src"; exit 1; }

check() {
python3 - "$1" <<'EOF'
import os, re, sys

src = os.path.normpath(sys.argv[1])

# library: (header pattern, the files allowed to include it). A set of more than one file is a
# library not yet behind one wrapper; it must not grow.
WRAPPERS = {
    "openssl": (r"openssl/", {"common/crypto.c"}),
    "libyaml": (r"yaml\.h$", {"common/yaml-util.c"}),
    "libcdio": (r"cdio/", set()),
    "libarchive": (r"archive(_entry)?\.h$", {"builder/lib/archive.c"}),
    "gpgme": (r"gpgme\.h$", {"builder/env/gpg.c"}),
    "libguestfs": (r"guestfs\.h$", {"builder/source/guest.c"}),
    "cairo": (r"cairo(-pdf)?\.h$|fontconfig/", {"builder/env/pdf.c"}),
    "qrencode": (r"qrencode\.h$", {"builder/env/qr.c"}),
    "zbar": (r"zbar\.h$", {"builder/env/qrscan.c"}),
    "libpng": (r"png\.h$", {"builder/env/qrscan.c"}),
    "zlib": (r"zlib\.h$", {"builder/lib/gzip.c"}),
    "libext2fs": (r"ext2fs/|et/com_err\.h$", {"builder/lib/ext2.c"}),
}
# What each layer may include (besides itself).
BELOW = {"basic": set(), "common": {"basic"}, "builder": {"common", "basic"}, "agent": {"common", "basic"}}
LAYERS = list(BELOW)

files = []
for root, _, names in os.walk(src):
    for n in names:
        if n.endswith((".c", ".h")):
            files.append(os.path.relpath(os.path.join(root, n), src))
fileset = set(files)

def layer(rel):
    return rel.split("/", 1)[0]

def module(rel):
    """A .c and its .h; NAME-internal.h (the private declarations of NAME.c and its siblings) is
    part of module NAME."""
    m = os.path.splitext(rel)[0]
    return m[: -len("-internal")] if m.endswith("-internal") else m

def resolve(includer, name):
    """The file an #include "name" of includer means: its own folder, its layer's root, then the
    layers below; else any file of src/ with that path (a violation for the layer check)."""
    lay = layer(includer)
    dirs = [os.path.dirname(includer), lay] + sorted(BELOW.get(lay, ()))
    for d in dirs:
        cand = os.path.normpath(os.path.join(d, name))
        if cand in fileset:
            return cand
    others = sorted(f for f in files if f == name or f.endswith("/" + name))
    return others[0] if others else None

errors = []
edges = {}
inc_re = re.compile(r'^\s*#\s*include\s*([<"])([^">]+)[">]')
for f in sorted(files):
    lay = layer(f)
    with open(os.path.join(src, f), encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            m = inc_re.match(line)
            if not m:
                continue
            kind, name = m.groups()
            where = f"src/{f}:{lineno}"
            if kind == "<":
                for lib, (pat, allowed) in WRAPPERS.items():
                    if re.search(pat, name) and f not in allowed:
                        errors.append(f"{where}: <{name}> ({lib}) outside its wrapper "
                                      f"({', '.join(sorted(allowed)) or 'none: unused'})")
                continue
            target = resolve(f, name)
            if target is None:
                continue        # generated or system header included with quotes
            tl = layer(target)
            if tl != lay and lay in BELOW and tl in LAYERS and tl not in BELOW[lay]:
                errors.append(f"{where}: {lay} includes {tl} (\"{name}\" is src/{target})")
            # Inside the builder, the verbs sit on top: no capability folder includes cli/.
            if lay == "builder" and target.startswith("builder/cli/") and not f.startswith("builder/cli/"):
                errors.append(f"{where}: builder logic includes the command line (\"{name}\" is src/{target})")
            a, b = module(f), module(target)
            if a != b:
                edges.setdefault(a, set()).add(b)

# Cycles: strongly connected components of the module graph (Tarjan, iterative).
index, low, onstack, stack, comps, counter = {}, {}, set(), [], [], [0]
nodes = sorted(set(edges) | {b for v in edges.values() for b in v})
for start in nodes:
    if start in index:
        continue
    work = [(start, iter(sorted(edges.get(start, ()))))]
    index[start] = low[start] = counter[0]; counter[0] += 1
    stack.append(start); onstack.add(start)
    while work:
        v, it = work[-1]
        nxt = next(it, None)
        if nxt is not None:
            if nxt not in index:
                index[nxt] = low[nxt] = counter[0]; counter[0] += 1
                stack.append(nxt); onstack.add(nxt)
                work.append((nxt, iter(sorted(edges.get(nxt, ())))))
            elif nxt in onstack:
                low[v] = min(low[v], index[nxt])
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[v])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); onstack.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))
for c in comps:
    errors.append("include cycle among modules: " + " <-> ".join(f"src/{m}" for m in c))

for e in errors:
    print(e)
print(f"{len(files)} files, {sum(len(v) for v in edges.values())} module arrows, {len(errors)} violation(s)")
sys.exit(1 if errors else 0)
EOF
}

# The checker itself finds what it is for: a tree with a cycle, an upward and a sideways include
# and a library header outside its wrapper fails, with each named.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/src/basic" "$T/src/common" "$T/src/agent" "$T/src/builder/disk"
printf '#include "b.h"\n' >"$T/src/agent/a.c"
printf '#include "a.h"\n' >"$T/src/agent/b.h"
: >"$T/src/agent/a.h"
printf '#include "disk/x.h"\n' >"$T/src/agent/c.c"
: >"$T/src/builder/disk/x.h"
printf '#include "a.h"\n#include <openssl/evp.h>\n' >"$T/src/common/m.c"
printf '#include "m.h"\n' >"$T/src/basic/u.c"
: >"$T/src/common/m.h"
if out=$(check "$T/src"); then
	echo "the layer check accepted a broken tree:"; echo "$out"; exit 1
fi
for want in "include cycle among modules: src/agent/a <-> src/agent/b" "agent includes builder" \
	"common includes agent" "basic includes common" "<openssl/evp.h> (openssl) outside its wrapper"; do
	grep -qF "$want" <<<"$out" || { echo "the layer check missed: $want"; echo "$out"; exit 1; }
done

check "$src"
