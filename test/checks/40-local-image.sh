#!/usr/bin/env bash
# deploy/image/build-local-image.sh builds a working image without any registry: its root filesystem runs the CLI
# under chroot (node + exactly the libraries ldd lists + dist + production node_modules), its CycloneDX SBOM lists
# the runtime dependencies and no dev dependency, beside the image and identically inside it, and, when the test
# environment's private Docker Engine is up (test/setup/test-env.sh start), the imported image serves /healthz and
# /metrics as the exporter, carries the OCI labels and the same SBOM, and stops promptly on SIGTERM.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

fail() { echo "40-local-image: FAILED: $*" >&2; exit 1; }
scratch=$(mktemp -d)
container=
image=
cleanup() {
  [[ -z $container ]] || docker rm -f "$container" >/dev/null 2>&1 || true
  [[ -z $image ]] || docker rmi "$image" >/dev/null 2>&1 || true
  rm -rf "$scratch"
}
trap cleanup EXIT

[[ -f dist/shared/cli/main.js && -f dist/deploy/image/check-sbom-main.js ]] || fail "dist/ not built (npx tsc -p tsconfig.json)"

sbom=$scratch/sbom.cdx.json
bash deploy/image/build-local-image.sh --rootfs "$scratch/rootfs" --sbom "$sbom" 2>"$scratch/build.log" || { cat "$scratch/build.log" >&2; fail "building the root filesystem"; }
for f in usr/bin/node app/package.json app/dist/shared/cli/main.js app/node_modules/prom-client/package.json; do
  [[ -e $scratch/rootfs/$f ]] || fail "root filesystem lacks /$f"
done
for dev in typescript @types/express; do
  [[ ! -e $scratch/rootfs/app/node_modules/$dev ]] || fail "root filesystem ships the dev dependency $dev"
done

# The SBOM: beside the image, CycloneDX, every runtime dependency at its locked version and no dev-only package
# (deploy/image/check-sbom.ts, unit-tested), and the very same file inside the image.
[[ -s $sbom ]] || fail "build-local-image.sh --sbom $sbom wrote no SBOM"
node dist/deploy/image/check-sbom-main.js "$sbom" || fail "the SBOM beside the image is wrong (see above)"
sbom_names=$(node -e 'for (const c of JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).components) console.log(c.name)' "$sbom")
for dep in express prom-client yaml; do
  grep -qx -- "$dep" <<<"$sbom_names" || fail "the SBOM does not list the runtime dependency $dep"
done
for dev in typescript eslint prettier; do
  ! grep -qx -- "$dev" <<<"$sbom_names" || fail "the SBOM lists the dev dependency $dev"
done
cmp -s "$sbom" "$scratch/rootfs/usr/share/doc/ollama-sentinel/sbom.cdx.json" ||
  fail "/usr/share/doc/ollama-sentinel/sbom.cdx.json in the root filesystem differs from the SBOM beside it"
echo "40-local-image: SBOM beside and inside the image: $(grep -c . <<<"$sbom_names") components, no dev dependency"

if [[ $(id -u) -eq 0 ]]; then
  version=$(env -i "$(command -v chroot)" "$scratch/rootfs" /usr/bin/node /app/dist/shared/cli/main.js --version) || fail "the CLI does not start in the root filesystem"
  [[ $version == "ollama-sentinel $(node -p 'require("./package.json").version')" ]] || fail "unexpected --version output: $version"
  echo "40-local-image: root filesystem runs the CLI ($version)"
else
  echo "40-local-image: not root, chroot check skipped"
fi

if ! bash test/setup/test-env.sh status >/dev/null 2>&1; then
  echo "40-local-image: test environment not running, image import check skipped (test/setup/test-env.sh start)"
  echo "40-local-image: ok"
  exit 0
fi
env_file=$(bash test/setup/test-env.sh env-file)
DOCKER_HOST=$(sed -n 's/^DOCKER_HOST=//p' "$env_file")
DOCKER_CONFIG=$(sed -n 's/^DOCKER_CONFIG=//p' "$env_file")
export DOCKER_HOST DOCKER_CONFIG

image=sentinel-local-image-check:$$
image_sbom=$scratch/image-sbom.cdx.json
bash deploy/image/build-local-image.sh --tag "$image" --sbom "$image_sbom" 2>"$scratch/import.log" || { cat "$scratch/import.log" >&2; fail "docker import"; }
revision=$(git rev-parse HEAD)
label() { docker image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$1\"}}" "$image"; }
[[ $(label version) == $(node -p 'require("./package.json").version') ]] || fail "image label version is '$(label version)'"
[[ $(label licenses) == $(node -p 'require("./package.json").license') ]] || fail "image label licenses is '$(label licenses)'"
[[ $(label revision) == "$revision" ]] || fail "image label revision is '$(label revision)', not $revision"
[[ $(label source) == https://* ]] || fail "image label source is '$(label source)'"
[[ $(label created) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] || fail "image label created is '$(label created)', not RFC 3339 UTC"
# Read by the image's own node as its (non-root) user: the file must be readable there, and equal the one beside.
docker run --rm --entrypoint /usr/bin/node "$image" -e 'process.stdout.write(require("fs").readFileSync("/usr/share/doc/ollama-sentinel/sbom.cdx.json"))' >"$scratch/sbom-in-image.json" ||
  fail "cannot read /usr/share/doc/ollama-sentinel/sbom.cdx.json in $image"
cmp -s "$image_sbom" "$scratch/sbom-in-image.json" || fail "the SBOM inside $image differs from $image_sbom beside it"
echo "40-local-image: imported image has the OCI labels and the SBOM written beside it"
port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
container=$(docker run -d --network host -e "SENTINEL_EXPORTER_LISTEN_ADDRESS=127.0.0.1:$port" "$image")
ok=0
for _ in $(seq 1 100); do
  if node -e "fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then ok=1; break; fi
  sleep 0.1
done
((ok)) || { docker logs "$container" >&2 || true; fail "the exporter in $image did not answer /healthz"; }
node -e "fetch('http://127.0.0.1:$port/metrics').then(r=>r.text()).then(t=>process.exit(/^sentinel_build_info\{[^}]*revision=\"$revision\"/m.test(t)?0:1),()=>process.exit(1))" ||
  fail "/metrics of the exporter in $image has no sentinel_build_info with revision $revision"
start=$SECONDS
docker stop -t 10 "$container" >/dev/null
(( SECONDS - start < 5 )) || fail "the exporter took $((SECONDS - start)) s to stop: SIGTERM is not handled as PID 1"
echo "40-local-image: imported image serves the exporter and stops on SIGTERM"
echo "40-local-image: ok"
