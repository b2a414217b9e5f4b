#!/bin/sh
# Install the SelFlow bundle for the current user (no root): the program in ~/.local/opt/selflow,
# `selflow` on the PATH via ~/.local/bin, a menu entry and the icon. Run it from the bundle folder
# (dist/selflow/install.sh) or give the bundle folder as the first argument. PREFIX=~/.local.
# `./install.sh --uninstall` removes all of it again (your data folder stays).
set -eu

PREFIX=${PREFIX:-$HOME/.local}
APPDIR=$PREFIX/opt/selflow
DESKTOP=$PREFIX/share/applications/selflow.desktop
ICONFILE=$PREFIX/share/icons/hicolor/scalable/apps/selflow.svg

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$APPDIR" "$DESKTOP" "$ICONFILE"
    [ -L "$PREFIX/bin/selflow" ] && rm -f "$PREFIX/bin/selflow"
    echo "SelFlow removed from $PREFIX (data and ~/.config/autostart/selflow.desktop untouched)"
    exit 0
fi

BUNDLE=$(cd "${1:-$(dirname "$0")}" && pwd)
[ -x "$BUNDLE/selflow" ] || { echo "install.sh: no selflow executable in $BUNDLE; build it with 'make bundle'" >&2; exit 1; }
ICON=$BUNDLE/_internal/resources/selflow.svg
[ -f "$ICON" ] || { echo "install.sh: the icon $ICON is missing from the bundle (resources/selflow.svg)" >&2; exit 1; }
ENTRY=$BUNDLE/selflow.desktop
[ -f "$ENTRY" ] || ENTRY=$(dirname "$0")/selflow.desktop

if [ "$BUNDLE" != "$APPDIR" ]; then
    rm -rf "$APPDIR"
    mkdir -p "$PREFIX/opt"
    cp -a "$BUNDLE" "$APPDIR"
fi
mkdir -p "$PREFIX/bin" "$(dirname "$DESKTOP")" "$(dirname "$ICONFILE")"
ln -sf "$APPDIR/selflow" "$PREFIX/bin/selflow"
cp "$ICON" "$ICONFILE"
sed "s|^Exec=.*|Exec=$APPDIR/selflow|" "$ENTRY" > "$DESKTOP"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$(dirname "$DESKTOP")" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$PREFIX/share/icons/hicolor" || true
echo "SelFlow installed in $APPDIR; start it from the menu or run: $PREFIX/bin/selflow"
