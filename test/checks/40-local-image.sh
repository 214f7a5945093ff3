#!/usr/bin/env bash
# deploy/image/build-local-image.sh builds a working image without any registry: its root filesystem runs the CLI
# under chroot (node + exactly the libraries ldd lists + dist + production node_modules), and, when the test
# environment's private Docker Engine is up (test/setup/test-env.sh start), the imported image serves /healthz and
# /metrics as the exporter and stops promptly on SIGTERM.
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

[[ -f dist/shared/cli/main.js ]] || fail "dist/ not built (npx tsc -p tsconfig.json)"

bash deploy/image/build-local-image.sh --rootfs "$scratch/rootfs" 2>"$scratch/build.log" || { cat "$scratch/build.log" >&2; fail "building the root filesystem"; }
for f in usr/bin/node app/package.json app/dist/shared/cli/main.js app/node_modules/prom-client/package.json; do
  [[ -e $scratch/rootfs/$f ]] || fail "root filesystem lacks /$f"
done
for dev in typescript @types/express; do
  [[ ! -e $scratch/rootfs/app/node_modules/$dev ]] || fail "root filesystem ships the dev dependency $dev"
done

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
bash deploy/image/build-local-image.sh --tag "$image" 2>"$scratch/import.log" || { cat "$scratch/import.log" >&2; fail "docker import"; }
port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
container=$(docker run -d --network host -e "SENTINEL_EXPORTER_LISTEN_ADDRESS=127.0.0.1:$port" "$image")
ok=0
for _ in $(seq 1 100); do
  if node -e "fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then ok=1; break; fi
  sleep 0.1
done
((ok)) || { docker logs "$container" >&2 || true; fail "the exporter in $image did not answer /healthz"; }
revision=$(git rev-parse HEAD)
node -e "fetch('http://127.0.0.1:$port/metrics').then(r=>r.text()).then(t=>process.exit(/^sentinel_build_info\{[^}]*revision=\"$revision\"/m.test(t)?0:1),()=>process.exit(1))" ||
  fail "/metrics of the exporter in $image has no sentinel_build_info with revision $revision"
start=$SECONDS
docker stop -t 10 "$container" >/dev/null
(( SECONDS - start < 5 )) || fail "the exporter took $((SECONDS - start)) s to stop: SIGTERM is not handled as PID 1"
echo "40-local-image: imported image serves the exporter and stops on SIGTERM"
echo "40-local-image: ok"
