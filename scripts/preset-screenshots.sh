#!/usr/bin/env bash
# Screenshots of every preset view on real logs (../shared/data/real, or $SECVIZ_SHARED/data/real)
# and a generated firewall log: each log is ingested into a temporary lake, `secviz presets`
# names the views that fit it, `secviz chart --spec` draws each (the function the portal
# draws posts with) in the light and the dark theme, and headless Chromium shows the picture
# under its question at 1280 px and 390 px wide. Writes docs/screenshots/presets/ and
# docs/presets.md. Needs scripts/setup-test-env.sh (playwright-core) and Debian's chromium.
#
# usage: scripts/preset-screenshots.sh [SECVIZ_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
bin="${1:-${CARGO_TARGET_DIR:-target}/release/secviz}"
[ -x "$bin" ] || { echo "no secviz binary at $bin (build it, or pass its path)" >&2; exit 1; }
real="${SECVIZ_SHARED:-$root/../shared}/data/real"
[ -d "$real" ] || { echo "no real logs at $real (set SECVIZ_SHARED)" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export SECVIZ_DATA="$work/lake"
out=docs/screenshots/presets
rm -rf "$out"
mkdir -p "$out"
python3 "${SECVIZ_SHARED:-$root/../shared}/tools/gen_security_data.py" --kind pf --lines 5000 --seed 3 --out "$work/pf.log" > /dev/null
# name|format|file
logs="access|access|$real/elastic-examples/apache_logs
sshd|syslog|$real/loghub/OpenSSH_2k.log
syslog|syslog|$real/loghub/Linux_2k.log
zeek_conn|zeek|$real/zat/conn.log
zeek_dns|zeek|$real/zat/dns.log
pf|pf|$work/pf.log"
index="$work/index.md"
shots="$work/shots.json"
echo "[" > "$shots"
first=1
while IFS='|' read -r name format file; do
  "$bin" ingest "$file" --format "$format" --year 2025 --dataset "$name" < /dev/null > /dev/null
  "$bin" presets --dataset "$name" --write "$work/$name" < /dev/null > "$work/$name.txt"
  printf '\n## %s (`%s`, %s)\n\n' "$name" "$(basename "$file")" "$format" >> "$index"
  while read -r key question; do
    for theme in light dark; do
      svg="$work/$name-$key-$theme.svg"
      "$bin" chart --dataset "$name" --spec "$work/$name/$key.json" --theme "$theme" -w "$svg" < /dev/null
      bg=$([ "$theme" = dark ] && echo '#0d1117' || echo '#ffffff')
      fg=$([ "$theme" = dark ] && echo '#e6edf3' || echo '#1f2328')
      html="$work/$name-$key-$theme.html"
      printf '<!doctype html><meta charset="utf-8"><body style="margin:16px;background:%s;color:%s;font-family:sans-serif"><h1 style="font-size:20px">%s</h1><p style="opacity:.7">secviz presets · %s · %s</p><img src="%s" style="max-width:100%%;height:auto"></body>' \
        "$bg" "$fg" "$question" "$name" "$key" "$(basename "$svg")" > "$html"
      for width in 1280 390; do
        [ $first = 1 ] || echo "," >> "$shots"
        first=0
        printf '{"url":"file://%s","out":"%s/%s/%s-%s-%s-%s.jpg","scheme":"%s","width":%s}' \
          "$html" "$root" "$out" "$name" "$key" "$width" "$theme" "$theme" "$width" >> "$shots"
      done
    done
    printf -- '- **%s** (`%s`): [1280 light](screenshots/presets/%s-%s-1280-light.jpg), [1280 dark](screenshots/presets/%s-%s-1280-dark.jpg), [390 light](screenshots/presets/%s-%s-390-light.jpg), [390 dark](screenshots/presets/%s-%s-390-dark.jpg)\n' \
      "$question" "$key" "$name" "$key" "$name" "$key" "$name" "$key" "$name" "$key" >> "$index"
    printf '\n  ![%s](screenshots/presets/%s-%s-1280-light.jpg)\n\n' "$question" "$name" "$key" >> "$index"
  done < "$work/$name.txt"
done <<< "$logs"
echo "]" >> "$shots"
node tests/browser/shots.mjs < "$shots"
{
  echo "# Preset views, on real logs"
  echo
  echo "Every preset view (\`secviz presets\`, and the draft form of the portal) that fits each log,"
  echo "drawn by \`secviz chart --spec\` in the light and the dark theme, shown in headless Chromium"
  echo "at 1280 px and 390 px wide. Made by \`scripts/preset-screenshots.sh\`; the logs are those of"
  echo "\`../shared/data/real\` (see its SOURCES.md) and a generated pf log."
  cat "$index"
} > docs/presets.md
