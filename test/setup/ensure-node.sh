#!/usr/bin/env bash
# Prints the bin folder of the pinned Node.js every phase of the test command runs on, installing it first when it
# is missing. Node 20 reached end of life on 2026-04-30; the image runs Node 24, so the tests do too. The build comes
# from the npm registry (the `node-linux-<arch>` packages carry the official binaries; no other download site is
# needed), checked against the integrity pinned here, and unpacked under $SENTINEL_NODE_CACHE
# (default /var/cache/ollama-sentinel, or ~/.cache/ollama-sentinel for a non-root user).
# To move the pin: set NODE_PIN and both integrities from `npm view node-linux-<arch>@<version> dist.integrity`.
set -euo pipefail

NODE_PIN=24.22.3
declare -A INTEGRITY=(
  [x64]=sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==
  [arm64]=sha512-IZx0J52/1NDwAsY2iyWR9nlPIYuYviTWetjj8+ElvYQh2+XRhLfCfkbFEF/2O5vGI2hcUbyPNHV+nz342FbJXw==
)

log() { echo "ensure-node: $*" >&2; }

case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) log "no pinned Node.js build for $(uname -m) (x86_64 and aarch64 only)"; exit 1 ;;
esac

if [[ -n ${SENTINEL_NODE_CACHE:-} ]]; then
  cache=$SENTINEL_NODE_CACHE
elif [[ $(id -u) -eq 0 ]]; then
  cache=/var/cache/ollama-sentinel
else
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/ollama-sentinel
fi
dir=$cache/node-v$NODE_PIN-linux-$arch

if [[ -x $dir/bin/node ]] && [[ $("$dir/bin/node" --version 2>/dev/null) == "v$NODE_PIN" ]]; then
  echo "$dir/bin"
  exit 0
fi

command -v npm >/dev/null || { log "npm not found: it fetches node-linux-$arch@$NODE_PIN from the npm registry"; exit 1; }
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.node-download.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "installing Node.js $NODE_PIN ($arch) from the npm registry into $dir"
# npm checks the tarball against the registry's integrity; the pin below also guards against a changed registry entry.
npm pack --silent --pack-destination "$tmp" "node-linux-$arch@$NODE_PIN" >/dev/null </dev/null
tarball=$tmp/node-linux-$arch-$NODE_PIN.tgz
[[ -f $tarball ]] || { log "npm pack did not write $tarball"; exit 1; }
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ $got != "${INTEGRITY[$arch]}" ]]; then
  log "integrity mismatch for node-linux-$arch@$NODE_PIN: got $got, pinned ${INTEGRITY[$arch]}"
  exit 1
fi
tar -C "$tmp" -xzf "$tarball"
[[ $("$tmp/package/bin/node" --version) == "v$NODE_PIN" ]] || { log "the unpacked node is not v$NODE_PIN"; exit 1; }
rm -rf "$dir"
mv "$tmp/package" "$dir"
echo "$dir/bin"
