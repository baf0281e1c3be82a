#!/usr/bin/env bash
# Installs the studio's menu entry and icon for the current user (idempotent): the .desktop file of
# ui/assets/ with Exec pointing at this checkout's .venv/bin/circuit-studio, into
# ${XDG_DATA_HOME:-~/.local/share}/applications, and the icon into its hicolor theme.
# `make desktop` runs it; remove the three files it names to uninstall.
set -euo pipefail
cd "$(dirname "$0")/.."

data=${XDG_DATA_HOME:-$HOME/.local/share}
cli="$PWD/.venv/bin/circuit-studio"
[ -x "$cli" ] || { echo "desktop_entry: $cli is missing: run \`make setup\` first" >&2; exit 1; }

place() {  # place SOURCE TARGET: copy when different, and say so
    if ! cmp -s "$1" "$2"; then
        install -D -m 644 "$1" "$2"
        echo "desktop_entry: installed $2"
    fi
}

entry=$(mktemp)
trap 'rm -f "$entry"' EXIT
sed "s|^Exec=circuit-studio |Exec=\"$cli\" |" ui/assets/moe-circuit-studio.desktop >"$entry"
place "$entry" "$data/applications/moe-circuit-studio.desktop"
place ui/assets/moe-circuit-studio.svg "$data/icons/hicolor/scalable/apps/moe-circuit-studio.svg"
place ui/assets/moe-circuit-studio.png "$data/icons/hicolor/256x256/apps/moe-circuit-studio.png"
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$data/applications" || true
fi
