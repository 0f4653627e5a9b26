#!/bin/sh
# python3 -m compileall over a tree in /tmp, then import from the compiled tree.
set -e
B=/tmp/palisade-pyc-$$
rm -rf "$B"
mkdir -p "$B/pkg/sub"
touch "$B/pkg/__init__.py" "$B/pkg/sub/__init__.py"
for i in $(seq 0 29); do
    printf 'def f():\n    return %d * 2\n' "$i" > "$B/pkg/m$i.py"
    printf 'X = [%d] * 3\n' "$i" > "$B/pkg/sub/s$i.py"
done
python3 -m compileall -q "$B" && echo compiled
find "$B" -name '*.pyc' | wc -l
cd "$B"
python3 -c 'import pkg.m7, pkg.sub.s9; print(pkg.m7.f(), pkg.sub.s9.X, pkg.m7.__cached__.endswith(".pyc"))'
cd /
rm -rf "$B"
