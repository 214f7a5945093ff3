#!/usr/bin/env bash
# Builds the ollama-sentinel image WITHOUT any registry or base image: a root filesystem made of this host's
# /usr/bin/node and the libraries it links, the compiled app (dist/) and the production node_modules, imported
# with `docker import`. Same entrypoint, command, user and ports as deploy/image/Dockerfile; for hosts that cannot
# pull node:24-slim (air-gapped GPU servers, CI). Run `npx tsc -p tsconfig.json` first. Like the Dockerfile it sets
# no listen address: pass SENTINEL_EXPORTER_LISTEN_ADDRESS=:9778 where the port is published.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: deploy/image/build-local-image.sh [--tag NAME] [--rootfs DIR] [--sbom FILE] [--no-busybox] [--no-docker-cli]

  --tag NAME       image to import (default ollama-sentinel:0.1.0, the name the Compose/Swarm files use)
  --rootfs DIR     only assemble the root filesystem in DIR (must not exist); no Docker needed
  --sbom FILE      where to write the CycloneDX SBOM of the shipped packages, beside the image
                   (default dist/image/ollama-sentinel-<version>.cdx.json); the image holds the same file at
                   /usr/share/doc/ollama-sentinel/sbom.cdx.json
  --no-busybox     leave out /bin/sh and friends (a static busybox is added when this host has one)
  --no-docker-cli  leave out the docker CLI (only the remediator's redeploy_stack action needs it)

DOCKER_HOST selects the daemon as usual. The image has no HEALTHCHECK (docker import cannot set one):
the Compose and Swarm files declare it.
USAGE
}

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tag=ollama-sentinel:0.1.0
rootfs_only=
sbom=
with_busybox=1
with_docker_cli=1
while (($#)); do
  case $1 in
    --tag) tag=${2:?--tag needs a value}; shift 2 ;;
    --rootfs) rootfs_only=${2:?--rootfs needs a directory}; shift 2 ;;
    --sbom) sbom=${2:?--sbom needs a file}; shift 2 ;;
    --no-busybox) with_busybox=0; shift ;;
    --no-docker-cli) with_docker_cli=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "build-local-image: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { echo "build-local-image: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for f in package.json dist/shared/cli/main.js dist/exporter dist/remediator dist/deploy/image/check-sbom-main.js node_modules; do
  [[ -e $REPO_ROOT/$f ]] || die "$REPO_ROOT/$f missing: run npm ci and npx tsc -p tsconfig.json first"
done
version=$(node -p "require('$REPO_ROOT/package.json').version")
sbom=${sbom:-$REPO_ROOT/dist/image/ollama-sentinel-$version.cdx.json}

# --- the SBOM, first: a build whose SBOM would be wrong stops before anything is assembled ---------------------
# npm sbom reads the installed tree (offline), so it lists exactly the packages the copy below ships. It needs the
# full install (npm ci): with dev dependencies absent it fails on them as missing, even with --omit dev.
sbom_tmp=$(mktemp)
trap 'rm -f "$sbom_tmp"' EXIT
(cd "$REPO_ROOT" && npm sbom --sbom-format cyclonedx --sbom-type application --omit dev) >"$sbom_tmp" ||
  die "npm sbom failed (run npm ci: it needs the full install)"
node "$REPO_ROOT/dist/deploy/image/check-sbom-main.js" "$sbom_tmp" --root "$REPO_ROOT" >/dev/null ||
  die "the SBOM npm sbom wrote does not describe what the image ships (see above)"
install -D -m 0644 "$sbom_tmp" "$sbom"

if [[ -n $rootfs_only ]]; then
  [[ ! -e $rootfs_only ]] || die "$rootfs_only already exists"
  rootfs=$rootfs_only
  mkdir -p "$rootfs"
else
  command -v docker >/dev/null || die "docker CLI not found"
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch" "$sbom_tmp"' EXIT
  rootfs=$scratch/rootfs
  mkdir -p "$rootfs"
fi

# --- base files: users, writable /tmp, mount points -------------------------------------------------------------
mkdir -p "$rootfs"/{etc,proc,sys,dev,tmp,run,app,home/node,usr/bin,usr/local/bin,var/lib/ollama-sentinel}
chmod 1777 "$rootfs/tmp"
# uid/gid 1000 "node", as in the official node images, so volumes and USER behave the same in both builds.
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
chown 1000:1000 "$rootfs/home/node" 2>/dev/null || true
# Name resolution for ollama:11434-style targets (glibc reads nsswitch.conf; Docker writes resolv.conf and hosts).
printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"

# --- node and exactly the shared libraries it needs, at the paths the dynamic loader expects --------------------
node_bin=$(readlink -f "$(command -v node)")
cp "$node_bin" "$rootfs/usr/bin/node"
for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
  cp -L --parents "$lib" "$rootfs/"
done
# glibc loads the DNS resolver modules at run time (dlopen): ldd does not list them.
for lib in /lib/x86_64-linux-gnu/libnss_dns.so.2 /lib/x86_64-linux-gnu/libnss_files.so.2 /lib/x86_64-linux-gnu/libresolv.so.2; do
  [[ -e $lib ]] && cp -L --parents "$lib" "$rootfs/"
done

# --- optional tools ------------------------------------------------------------------------------------------------
if ((with_busybox)); then
  busybox_bin=$(command -v busybox || true)
  if [[ -n $busybox_bin ]] && file -L "$busybox_bin" 2>/dev/null | grep -q 'statically linked'; then
    mkdir -p "$rootfs/bin"
    cp -L "$busybox_bin" "$rootfs/bin/busybox"
    for applet in sh env cat ls ps sleep; do ln -s busybox "$rootfs/bin/$applet"; done
    # The CLI's shebang is #!/usr/bin/env node.
    ln -s ../../bin/env "$rootfs/usr/bin/env"
  else
    log "no static busybox on this host (apt-get install busybox-static): the image has no shell"
  fi
fi
if ((with_docker_cli)); then
  docker_cli=$(command -v docker || true)
  if [[ -n $docker_cli ]] && file -L "$docker_cli" 2>/dev/null | grep -q 'statically linked'; then
    cp -L "$docker_cli" "$rootfs/usr/local/bin/docker"
  else
    log "no statically linked docker CLI on this host: redeploy_stack will be unavailable in the image"
  fi
fi
ln -s /app/dist/shared/cli/main.js "$rootfs/usr/local/bin/ollama-sentinel"

# --- the app: package.json (ESM marker + version), dist without tests/tools, production node_modules --------------
# Dev-only packages = everything npm lists minus what it lists with --omit=dev (typescript, @types/*).
mapfile -t dev_only < <(cd "$REPO_ROOT" && comm -13 \
  <(npm ls --omit=dev --all --parseable 2>/dev/null | sort -u) \
  <(npm ls --all --parseable 2>/dev/null | sort -u) | sed "s#^$REPO_ROOT/##")
excludes=()
for p in "${dev_only[@]}"; do [[ -n $p ]] && excludes+=("--exclude=$p"); done
tar -C "$REPO_ROOT" -cf - "${excludes[@]}" --exclude='*.map' --exclude=node_modules/.cache \
  package.json dist/shared dist/exporter dist/remediator node_modules | tar -C "$rootfs/app" -xf -
chmod 755 "$rootfs/app/dist/shared/cli/main.js"
# The same path as the Dockerfile: readable by the node user, so `docker run --entrypoint cat` can show it.
for d in usr/share usr/share/doc usr/share/doc/ollama-sentinel; do install -d -m 0755 "$rootfs/$d"; done
install -m 0644 "$sbom" "$rootfs/usr/share/doc/ollama-sentinel/sbom.cdx.json"
chown -R 0:0 "$rootfs/app"
chown 1000:1000 "$rootfs/var/lib/ollama-sentinel"

if [[ -n $rootfs_only ]]; then
  log "SBOM: $sbom"
  log "root filesystem ready in $rootfs ($(du -sh "$rootfs" | cut -f1)); try: chroot $rootfs /usr/bin/node /app/dist/shared/cli/main.js --version"
  exit 0
fi

# The commit and branch built, for sentinel_build_info (the image has no .git to read them from).
revision=$(git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
branch=$(git -C "$REPO_ROOT" rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
# SOURCE_DATE_EPOCH (reproducible builds) fixes the creation time when set.
created=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
license=$(node -p "require('$REPO_ROOT/package.json').license")
tar -C "$rootfs" -cf - . | docker import \
  -c 'ENTRYPOINT ["/usr/bin/node", "/app/dist/shared/cli/main.js"]' \
  -c 'CMD ["exporter"]' \
  -c 'WORKDIR /app' \
  -c 'USER 1000:1000' \
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production' \
  -c "ENV SENTINEL_BUILD_REVISION=$revision SENTINEL_BUILD_BRANCH=$branch" \
  -c 'EXPOSE 9778 9779' \
  -c "LABEL org.opencontainers.image.title=\"ollama-sentinel\" org.opencontainers.image.source=\"https://github.com/ollama-sentinel/ollama-sentinel\" org.opencontainers.image.version=\"$version\" org.opencontainers.image.licenses=\"$license\" org.opencontainers.image.revision=\"$revision\" org.opencontainers.image.created=\"$created\"" \
  -m "ollama-sentinel built by deploy/image/build-local-image.sh from $REPO_ROOT" \
  - "$tag" >/dev/null
log "imported $tag; its SBOM: $sbom"
