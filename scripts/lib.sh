# Shared by scripts/demo and scripts/test: installs what is missing, builds the site.
# Source it; it sets TARGET_DIR, SITE_ROOT and BIN.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
SITE_ROOT=$TARGET_DIR/site
BIN=$TARGET_DIR/debug/postmark-access-review
NAME=postmark_access_review

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root to run: $*" >&2; return 1; fi
}

ensure_wasm_target() {
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    step "Installing the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

# The wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
ensure_wasm_bindgen() {
  local want have
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")
  have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
  if [ "$have" != "$want" ]; then
    step "Installing wasm-bindgen-cli $want (found: ${have:-none})"
    # Not --locked: its lock pins a webpki-roots version some registry mirrors lack.
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    step "Installing Debian's chromium"
    as_root apt-get install -y chromium || { as_root apt-get update && as_root apt-get install -y chromium; }
  fi
}

ensure_node_modules() {
  if [ ! -d "$ROOT/end2end/node_modules/playwright-core" ]; then
    step "Installing end-to-end test packages (npm ci)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  fi
}

# Builds the browser part into $SITE_ROOT: pkg/NAME.js, pkg/NAME_bg.wasm, pkg/NAME.css and
# the files in public/. No cargo-leptos: see README, "How the build works".
build_site() {
  step "Building the browser bundle (wasm)"
  (cd "$ROOT" && cargo build --lib --target wasm32-unknown-unknown --no-default-features --features hydrate)
  mkdir -p "$SITE_ROOT/pkg"
  wasm-bindgen --target web --no-typescript --out-dir "$SITE_ROOT/pkg" --out-name "$NAME" \
    "$TARGET_DIR/wasm32-unknown-unknown/debug/$NAME.wasm"
  cp "$ROOT/style/main.css" "$SITE_ROOT/pkg/$NAME.css"
  cp -R "$ROOT/public/." "$SITE_ROOT/"
}

build_server() {
  step "Building the server"
  (cd "$ROOT" && cargo build --bin postmark-access-review --features ssr)
}
