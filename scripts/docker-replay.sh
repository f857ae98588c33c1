#!/usr/bin/env bash
# Replays a Dockerfile where `docker build` cannot run: its WORKDIR, COPY, ENV and RUN steps in
# a scratch folder standing for the image's /, then its CMD, which must serve /healthz, log its
# shutdown and exit 0 on one SIGTERM, leaving no process behind (as `docker stop` expects).
#
#   scripts/docker-replay.sh [Dockerfile]     default plugins/cache/Dockerfile; the context is the repository
#
# Differences from a real build, so the replay runs beside other work on a shared machine: the
# base image is this machine's node (a different major is reported); absolute paths in
# WORKDIR and ENV land under the scratch folder; `npm cache clean` cleans a scratch cache,
# not the machine's; the CMD listens on free loopback ports (PORT, HTTPS_PORT, GRPC_PORT,
# GRPCS_PORT = 0, HOST=127.0.0.1). KEEP=1 keeps the scratch folder.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dockerfile=$(realpath "${1:-$repo/plugins/cache/Dockerfile}")
context=$repo
ignore="$dockerfile.dockerignore"
[ -f "$ignore" ] || ignore="$context/.dockerignore"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/docker-replay-XXXXXX")
image="$scratch/image"
mkdir -p "$image" "$scratch/bin" "$scratch/npm-cache"
workdir="$image"
cmd_pid=""

cleanup() {
  # The CMD runs in its own process group; whatever is left of it goes with the replay.
  if [ -n "$cmd_pid" ]; then kill -KILL -- "-$cmd_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-}" = 1 ]; then echo "scratch folder kept: $scratch"; else rm -rf "$scratch"; fi
}
trap cleanup EXIT

say() { printf '%s\n' "$*"; }
fail() { say "FAIL: $*"; exit 1; }

# An absolute path of the image, inside the scratch folder.
in_image() { case "$1" in /*) printf '%s%s' "$image" "$1" ;; *) printf '%s/%s' "$workdir" "$1" ;; esac; }

# rsync excludes for copying context path $1: `**/x` anywhere, other patterns only below $1.
excludes_for() {
  local src=${1%/} line
  [ -f "$ignore" ] || return 0
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line%%#*}
    line=$(printf '%s' "$line" | tr -d '[:space:]')
    [ -n "$line" ] || continue
    case "$line" in
      '**/'*) printf -- '--exclude=%s\n' "${line#\*\*/}" ;;
      "$src/"*) printf -- '--exclude=/%s\n' "${line#"$src"/}" ;;
    esac
  done <"$ignore"
}

copy() {
  local args=("$@") dest=${args[-1]} target src
  unset 'args[-1]'
  target=$(in_image "$dest")
  if [ "${#args[@]}" -gt 1 ] || [ "${dest%/}" != "$dest" ]; then mkdir -p "$target"; fi
  for src in "${args[@]}"; do
    [ -e "$context/$src" ] || fail "COPY $src: no such file in the build context"
    if [ -d "$context/$src" ]; then
      mkdir -p "$target"
      mapfile -t ex < <(excludes_for "$src")
      rsync -a "${ex[@]}" "$context/$src/" "$target/"
    elif [ -d "$target" ]; then
      cp -p "$context/$src" "$target/"
    else
      mkdir -p "$(dirname "$target")"
      cp -p "$context/$src" "$target"
    fi
  done
}

# npm as in the image, except that `npm cache clean` works on a scratch cache.
real_npm=$(command -v npm)
cat >"$scratch/bin/npm" <<EOF
#!/bin/sh
if [ "\$1" = cache ] && [ "\$2" = clean ]; then exec "$real_npm" --cache "$scratch/npm-cache" "\$@"; fi
exec "$real_npm" "\$@"
EOF
chmod +x "$scratch/bin/npm"
# Steps see only what the Dockerfile sets (and PATH, HOME), as in an image: nothing of this
# shell's environment, such as a DATABASE_URL or npm's variables.
declare -a image_env=()
in_env() { env -i PATH="$scratch/bin:$PATH" HOME="$HOME" "${image_env[@]}" "$@"; }

cmd_json=""
say "replaying $dockerfile in $scratch"
while IFS= read -r line || [ -n "$line" ]; do
  # Continuation lines are not used by the Dockerfiles this replays; refuse rather than misread.
  case "$line" in *\\) fail "line continuation is not supported: $line" ;; esac
  line=${line#"${line%%[![:space:]]*}"}
  case "$line" in '' | '#'*) continue ;; esac
  instruction=${line%% *}
  rest=${line#* }
  case "$instruction" in
    FROM)
      wanted=$(printf '%s' "$rest" | sed -n 's/^node:\([0-9]*\).*/\1/p')
      have=$(node -p 'process.versions.node.split(".")[0]')
      say "- FROM $rest (this machine: node $(node -v))"
      [ -z "$wanted" ] || [ "$wanted" = "$have" ] || say "  note: the image has node $wanted, this replay runs node $have"
      ;;
    WORKDIR)
      workdir=$(in_image "$rest")
      mkdir -p "$workdir"
      say "- WORKDIR $rest"
      ;;
    COPY)
      say "- COPY $rest"
      read -r -a parts <<<"$rest"
      copy "${parts[@]}"
      ;;
    ENV)
      say "- ENV $rest"
      read -r -a pairs <<<"$rest"
      for pair in "${pairs[@]}"; do
        key=${pair%%=*}
        value=${pair#*=}
        case "$value" in /*) value=$(in_image "$value") ;; esac
        image_env+=("$key=$value")
      done
      ;;
    RUN)
      say "- RUN $rest"
      (cd "$workdir" && in_env sh -c "$rest") || fail "RUN $rest exited $?"
      ;;
    CMD)
      cmd_json=$rest
      say "- CMD $rest"
      ;;
    VOLUME | EXPOSE | LABEL | STOPSIGNAL) say "- $line (nothing to replay)" ;;
    *) fail "instruction $instruction is not replayed: $line" ;;
  esac
done <"$dockerfile"

[ -n "$cmd_json" ] || fail "the Dockerfile has no CMD"
mapfile -t cmd < <(node -e 'for (const part of JSON.parse(process.argv[1])) console.log(part)' "$cmd_json")
log="$scratch/cmd.log"
say "starting: ${cmd[*]} (in $workdir)"
(cd "$workdir" && image_env+=(PORT=0 HTTPS_PORT=0 GRPC_PORT=0 GRPCS_PORT=0 HOST=127.0.0.1) && exec env -i PATH="$scratch/bin:$PATH" HOME="$HOME" "${image_env[@]}" setsid "${cmd[@]}") >"$log" 2>&1 &
cmd_pid=$!

url=""
for _ in $(seq 1 1200); do
  url=$(sed -n 's/.*http listening on \(http:\/\/[^" ]*\).*/\1/p' "$log" | head -n 1)
  if [ -n "$url" ] && grep -q '"ready: ' "$log"; then break; fi
  kill -0 "$cmd_pid" 2>/dev/null || { cat "$log"; fail "the CMD exited before it was ready"; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$log"; fail "the CMD did not report its HTTP address within 120 s"; }
status=$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz" || true)
[ "$status" = 200 ] || { cat "$log"; fail "GET $url/healthz answered $status"; }
say "ready at $url: GET /healthz 200"

kill -TERM "$cmd_pid"
code=0
wait "$cmd_pid" || code=$?
grep -q 'shutdown complete' "$log" || { cat "$log"; fail "no 'shutdown complete' in the log after SIGTERM"; }
[ "$code" = 0 ] || { cat "$log"; fail "exit code $code after SIGTERM"; }
# Zombies (exited, waiting for this machine's init to reap them) do not count: they run nothing.
left=$(ps -o pid=,stat=,args= -g "$cmd_pid" | awk '$2 !~ /^Z/' || true)
[ -z "$left" ] || fail "processes of the CMD outlived it: $left"
grep -o '"msg":"shutdown phase [^"]*"' "$log" | sed 's/"msg":"\(.*\)"/  \1/'
say "ok: SIGTERM stopped the kernel in phases, ${cmd[*]} exited 0, nothing left running"
