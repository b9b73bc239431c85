# Shared by scripts/demo and scripts/test: installs what is missing, builds the site.
# Source it; it sets TARGET_DIR, SITE_ROOT and BIN.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
SITE_ROOT=$TARGET_DIR/site
BIN=$TARGET_DIR/debug/postmark-access-review
NAME=postmark_access_review

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@" || die "needs root (sudo without a password) to run: $*"
  else die "needs root to run: $*"; fi
}

apt_install() {
  step "Installing $* (apt)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y --no-install-recommends "$@" \
    || { as_root apt-get update && as_root apt-get install -y --no-install-recommends "$@"; }
}

# Tools the build and tests use that rustup does not bring.
ensure_prerequisites() {
  command -v cargo >/dev/null || die "Rust is missing: install it with rustup (https://rustup.rs)"
  command -v cc >/dev/null || apt_install gcc libc6-dev
  command -v python3 >/dev/null || apt_install python3
}

# playwright-core and node --test with --test-concurrency need Node.js 20 or later.
ensure_node() {
  command -v node >/dev/null || apt_install nodejs npm
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || die "Node.js 20 or later is needed for the browser tests (found $(node --version))"
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

# wasm-split-cli cuts the lazily loaded pages (src/lazy_routes.rs) out of the linked wasm. Its
# format must match the wasm_split_helpers crate Leptos builds in (Cargo.lock), so the version
# is pinned; `--locked` builds it with the versions it was released with.
WASM_SPLIT_VERSION=0.2.4
ensure_wasm_split() {
  if ! cargo install --list | grep -qx "wasm_split_cli_support v$WASM_SPLIT_VERSION:"; then
    step "Installing wasm-split-cli $WASM_SPLIT_VERSION (crate wasm_split_cli_support)"
    cargo install --locked wasm_split_cli_support --version "$WASM_SPLIT_VERSION" \
      --features build-binary
  fi
}

ensure_chromium() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

# Reinstalls when package-lock.json changed since the last install.
ensure_node_modules() {
  local stamp="$ROOT/end2end/node_modules/.lock-hash" want
  want=$(sha256sum "$ROOT/end2end/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    step "Installing end-to-end test packages (npm ci)"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
    echo "$want" > "$stamp"
  fi
}

# Links the wasm of cargo profile $1 and splits it into folder $2: NAME.js and NAME_bg.wasm (the
# main module, through wasm-bindgen), __wasm_split.js (fetches the rest on demand) and one
# split_*.wasm per lazily loaded page (src/lazy_routes.rs) plus chunk_*.wasm for code several of
# them share. wasm-split-cli needs the linker's relocations (`--emit-relocs`, passed to the last
# crate only so no dependency rebuilds) and wasm-bindgen must keep the exports the pieces import.
build_split_wasm() {
  local profile=$1 out=$2 dir split
  dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
  (cd "$ROOT" && cargo rustc --lib --target wasm32-unknown-unknown --no-default-features \
    --features hydrate --profile "$profile" -- -C link-arg=--emit-relocs)
  split=$(mktemp -d)
  wasm-split-cli "$TARGET_DIR/wasm32-unknown-unknown/$dir/$NAME.wasm" "$split" --out-name "$NAME"
  mkdir -p "$out"
  wasm-bindgen --target web --no-typescript --keep-lld-exports --out-dir "$out" --out-name "$NAME" \
    "$split/$NAME.wasm"
  rm "$split/$NAME.wasm"
  cp "$split"/* "$out/"
  rm -rf "$split"
}

# Builds the browser part into $SITE_ROOT: pkg/NAME.js, pkg/NAME_bg.wasm, the lazily loaded
# pieces (build_split_wasm), pkg/NAME.css and the files in public/. No cargo-leptos: see README,
# "How the build works".
build_site() {
  step "Building the browser bundle (wasm)"
  # Pieces of an earlier build would stay beside the new ones.
  rm -rf "$SITE_ROOT/pkg"
  build_split_wasm dev "$SITE_ROOT/pkg"
  cp "$ROOT/style/main.css" "$SITE_ROOT/pkg/$NAME.css"
  cp -R "$ROOT/public/." "$SITE_ROOT/"
}

# The release bundle into $1 (a site root): wasm built for size, split (build_split_wasm),
# wasm-opt -Oz on every piece (npm's binaryen: Debian's breaks hydration), under pkg/<build id>/
# so a new deploy never pairs old files with new HTML, each file precompressed (.br, .gz);
# `build-id` names the folder for the server. Building into an existing site keeps the two
# previous builds' folders beside the new one.
build_release_site() {
  local site=$1 staging id
  step "Building the browser bundle (wasm, release)"
  staging=$(mktemp -d)
  build_split_wasm wasm-release "$staging"
  step "Optimising the wasm (wasm-opt -Oz, $(find "$staging" -name '*.wasm' | wc -l) files)"
  # Each run starts binaryen anew (a second or so): several at once. Binaryen does not know the
  # name subsection the splitter writes for the pieces and says so once a file: left out.
  find "$staging" -name '*.wasm' -print0 | xargs -0 -P "$(nproc)" -I{} \
    "$ROOT/end2end/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    --enable-reference-types --enable-multivalue -o {} {} \
    2> >(grep -v '^warning: unknown name subsection with id 3 ' >&2)
  cp "$ROOT/style/main.css" "$staging/$NAME.css"
  id=$(find "$staging" -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
  # Earlier builds' pkg/<id> folders stay (the newest three): during a rolling deploy an
  # instance still on the old version serves the new HTML's files, and the other way round.
  mkdir -p "$site/pkg"
  find "$site" -maxdepth 1 -type f -delete
  find "$site/pkg" -maxdepth 1 -type f -delete
  local older
  older=$(find "$site/pkg" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' | sort -rn \
    | tail -n +3 | cut -d' ' -f2-)
  if [ -n "$older" ]; then
    printf '%s\n' "$older" | xargs rm -rf
  fi
  rm -rf "$site/pkg/$id"
  mkdir -p "$site/pkg/$id"
  cp "$staging"/* "$site/pkg/$id/"
  rm -rf "$staging"
  # The server-only status pages (sign-in errors, approval links, the development provider)
  # link pkg/NAME.css, revalidated on each load rather than versioned.
  cp "$ROOT/style/main.css" "$site/pkg/$NAME.css"
  cp -R "$ROOT/public/." "$site/"
  echo "$id" > "$site/build-id"
  node "$ROOT/scripts/precompress.mjs" "$site/pkg" > /dev/null
  node "$ROOT/scripts/precompress.mjs" "$site/pkg/$id"
}

build_server() {
  step "Building the server"
  (cd "$ROOT" && cargo build --bin postmark-access-review --features ssr)
}
