# Sourced by ./explorer and ./run-tests: find Python >= 3.12, install the system libraries
# Qt needs (Debian/Ubuntu, via apt), create .venv and install the pinned requirements.
# Idempotent and quiet when there is nothing to do.
#   setup_explorer app|test

set -euo pipefail

_say() { printf '[setup] %s\n' "$*" >&2; }
_die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

# Libraries Qt's offscreen platform needs, then what a real X11 window adds.
QT_LIBS_OFFSCREEN="libglib2.0-0 libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libxkbcommon0"
# Fonts too: DejaVu for the UI, WenQuanYi for the article title quoted in Chinese.
QT_LIBS_WINDOW="libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0 libxcb-render0
 libxcb-shape0 libxcb-util1 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1 fonts-dejavu-core fonts-wqy-microhei"

# Test mode only: the browser the HTML report is checked in.
TEST_BROWSER="chromium"

_python_ok() {  # prints the interpreter's path if it runs and is >= 3.12
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1 && command -v "$1"
}

find_python() {
    local candidate
    if [ -n "${EXPLORER_PYTHON:-}" ]; then
        _python_ok "$EXPLORER_PYTHON" || _die "EXPLORER_PYTHON=$EXPLORER_PYTHON is not a working Python >= 3.12"
        return
    fi
    # Interpreters on PATH (pyenv's shims answer only for a selected version: .python-version
    # in this folder selects 3.12), then pyenv's installed versions directly, newest first.
    for candidate in python3.14 python3.13 python3.12 python3; do
        (cd "$ROOT" && _python_ok "$candidate") && return
    done
    local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
    if [ -d "$pyenv_root/versions" ]; then
        for candidate in $(ls -d "$pyenv_root"/versions/3.1[2-9]* 2>/dev/null | sort -V -r); do
            _python_ok "$candidate/bin/python3" && return
        done
    fi
    return 1
}

_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

_apt_install() {  # install the named Debian packages that are missing
    local missing=() pkg sudo=""
    command -v dpkg-query >/dev/null 2>&1 || return 0  # not a Debian-like system: nothing to do
    for pkg in "$@"; do
        # Debian 13 renamed some libraries for 64-bit time (libglib2.0-0 -> libglib2.0-0t64).
        _installed "$pkg" || _installed "${pkg}t64" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || _die "missing system packages (${missing[*]}); install them as root"
        sudo="sudo"
    fi
    $sudo apt-get update -q >/dev/null || _die "apt-get update failed; cannot install ${missing[*]}"
    local names=()
    for pkg in "${missing[@]}"; do
        if apt-cache show "$pkg" >/dev/null 2>&1; then names+=("$pkg")
        elif apt-cache show "${pkg}t64" >/dev/null 2>&1; then names+=("${pkg}t64")
        else _say "warning: no package $pkg here; Qt may miss it"; fi
    done
    [ ${#names[@]} -eq 0 ] && return 0
    _say "installing system packages: ${names[*]}"
    local log; log="$(mktemp)"
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${names[@]}" >"$log" 2>&1
    then
        cat "$log" >&2; rm -f "$log"; _die "apt-get install ${names[*]} failed"
    fi
    rm -f "$log"
}

setup_explorer() {
    local mode="$1" python requirements stamp
    python="$(find_python)" || _die "Django Async Explorer needs Python 3.12 or newer and none was found.
  Debian 13: apt-get install python3 python3-venv    (3.13)
  Debian 12: install 3.12 with pyenv (pyenv install 3.12) or set EXPLORER_PYTHON=/path/to/python3.12"

    local libs="$QT_LIBS_OFFSCREEN"
    [ "$mode" = app ] && libs="$libs $QT_LIBS_WINDOW"
    # The tests open the HTML report in a real browser (headless Chromium).
    [ "$mode" = test ] && libs="$libs $TEST_BROWSER"
    # The tests start a throwaway PostgreSQL cluster with Debian's initdb/pg_ctl (the same code
    # as `--db postgres`); the app installs it only when asked (`apt-get install postgresql`).
    [ "$mode" = test ] && libs="$libs postgresql"
    # A system Python needs Debian's venv package to create .venv.
    if ! "$python" -c 'import ensurepip' >/dev/null 2>&1; then
        libs="$libs python3-venv $(basename "$python")-venv"
    fi
    # shellcheck disable=SC2086
    export DEBIAN_FRONTEND=noninteractive
    _apt_install $libs

    if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
        _say "replacing .venv (made with an older Python)"
        rm -rf "$VENV"
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        _say "creating .venv with $("$python" --version) ($python)"
        "$python" -m venv "$VENV"
    fi
    requirements="$ROOT/requirements.txt"
    [ "$mode" = test ] && requirements="$ROOT/requirements-dev.txt"
    stamp="$VENV/.installed-$(basename "$requirements")"
    if [ ! -f "$stamp" ] || [ "$(cat "$ROOT/requirements.txt" "$requirements" | cksum)" != "$(cat "$stamp")" ]; then
        _say "installing Python packages from $(basename "$requirements")"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
        cat "$ROOT/requirements.txt" "$requirements" | cksum >"$stamp"
    fi
}
