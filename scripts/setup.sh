# Installs what building (and, with `test`, testing) the chat needs, skipping whatever is already
# there, and puts the tools on PATH:
#   source scripts/setup.sh build|test
#
# Sourced by the scripts beside it and by developers in their own shell. The installing runs in a
# child bash (this same file, run rather than sourced) with `set -euo pipefail` and the checkout
# as its working directory, so that sourcing leaves the caller's shell options and directory as
# they were, and a failed step makes `source` return non-zero rather than close the terminal.

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  # Sourced: a function, so that its variables stay local to it.
  chat_setup() {
    local mode="${1:-build}" root
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)" || return
    bash "$root/scripts/setup.sh" "$mode" || return
    export PATH="$HOME/.cargo/bin:$root/tools/node_modules/.bin:$PATH"
    # nginx is in /usr/sbin, which a user's PATH may lack.
    [ "$mode" != test ] || export PATH="$PATH:/usr/sbin"
  }
  # Not `"$@"`: sourced without arguments, that would be the caller's own.
  chat_setup "${1:-build}" || { unset -f chat_setup; return 1; }
  unset -f chat_setup
  return 0
fi

set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# cargo-leptos 0.3.11 needs Rust 1.96; 0.3.10 builds on 1.94+ (this workspace's minimum).
CARGO_LEPTOS_VERSION=0.3.10
# wasm-bindgen-cli must match the wasm-bindgen library exactly (pinned in Cargo.toml).
WASM_BINDGEN_VERSION="$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' Cargo.lock)"
# cargo-deny runs scripts/test's checks of the dependency graph (deny.toml).
CARGO_DENY_VERSION=0.20.2

export PATH="$HOME/.cargo/bin:$root/tools/node_modules/.bin:$PATH"

# `npm ci` in $1 unless its node_modules already match its lock file.
npm_ci() {
  local dir="$1" stamp="$1/node_modules/.installed-from-lock"
  if ! cmp -s "$dir/package-lock.json" "$stamp" 2>/dev/null; then
    step "npm ci in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund
    cp "$dir/package-lock.json" "$stamp"
  fi
}

command -v cargo >/dev/null || { echo "Rust is needed: see https://rustup.rs" >&2; exit 1; }
node_major="$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\).*/\1/p')"
if [ -z "$node_major" ] || [ "$node_major" -lt 20 ]; then
  echo "Node.js 20 or newer (with npm) is needed; found: $(node --version 2>/dev/null || echo none)" >&2
  exit 1
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  step "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi
if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
  step "cargo install cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes on 2 cores)"
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked
fi
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  step "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file pins a yanked crate.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
# wasm-opt from npm's binaryen: Debian's binaryen 108 emits WASM that fails in the browser.
npm_ci tools

# Installs Debian packages without starting their services (nginx and redis-server would start
# system-wide instances on ports 80 and 6379; the tests start their own).
apt_install() {
  local sudo_if_needed="" policy=/usr/sbin/policy-rc.d own_policy=""
  [ "$(id -u)" -eq 0 ] || sudo_if_needed=sudo
  step "apt-get install $*"
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo_if_needed tee "$policy" >/dev/null
    $sudo_if_needed chmod +x "$policy"
    own_policy=1
  fi
  $sudo_if_needed apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo_if_needed apt-get install -y "$@"
  [ -z "$own_policy" ] || $sudo_if_needed rm -f "$policy"
}

if [ "${1:-build}" = test ]; then
  npm_ci end2end
  missing=()
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
  # The cluster tests put nginx in front of nodes over a Redis server of their own.
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v redis-server >/dev/null || missing+=(redis-server)
  # The Rust tests build rust_socketio and reqwest with native-tls (`sala`, and the server's and
  # the bench's tests through it): openssl-sys finds OpenSSL's headers with pkg-config. Building
  # the server alone (scripts/serve) needs neither.
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  pkg-config --exists openssl 2>/dev/null || missing+=(libssl-dev)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
  if [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
    step "cargo install cargo-deny $CARGO_DENY_VERSION (about 3 minutes on 2 cores)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked
  fi
fi
