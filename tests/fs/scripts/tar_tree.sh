#!/bin/sh
# Build a 2,000-file tree under /tmp, archive it with tar, extract it elsewhere, and print the
# listing and checksums (no paths that differ between runs).
set -e
B=/tmp/palisade-tar-$$
rm -rf "$B"
mkdir -p "$B/src" "$B/out"
for d in $(seq 0 19); do
    mkdir "$B/src/d$d"
    for f in $(seq 0 99); do
        echo "file $d $f $(( d * f ))" > "$B/src/d$d/f$f"
    done
done
ln -s d0/f0 "$B/src/link"
chmod 600 "$B/src/d3/f7"
tar -C "$B" -cf "$B/t.tar" src
tar -C "$B/out" -xf "$B/t.tar"
cd "$B/out"
find . | sort | sha256sum
find . -type f | wc -l
find . -type f | sort | xargs sha256sum | sha256sum
ls -l src/link src/d3/f7 | awk '{print $1, $5, $NF}'
diff -r "$B/src" "$B/out/src" && echo identical
tar -tvf "$B/t.tar" | wc -l
cd /
rm -rf "$B"
