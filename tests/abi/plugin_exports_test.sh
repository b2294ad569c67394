#!/usr/bin/env bash
# Every built-in plugin exports exactly one function: the versioned entry
# point. Anything else would leak helpers that could clash between plugins.
set -euo pipefail
dir=$1
status=0
for so in "$dir"/*.so; do
  funcs=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}')
  if [ "$funcs" != "cascade_plugin_entry_v1" ]; then
    echo "$(basename "$so") exports more than its entry point:"
    echo "$funcs" | grep -v '^cascade_plugin_entry_v1$' | head -5 | sed 's/^/  /'
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "every plugin in $dir exports only cascade_plugin_entry_v1"
exit "$status"
