#!/bin/sh
# gen.sh: regenerate the man pages (docs/man/*.1) from their Markdown
# sources with pandoc (apt-get install pandoc). The .1 files are committed,
# so building cordon does not need pandoc; run this after editing a .md.
set -eu
cd "$(dirname "$0")"
for md in *.1.md; do
    pandoc -s -f markdown -t man "$md" -o "${md%.md}"
done
