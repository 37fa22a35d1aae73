#!/usr/bin/env bash
# Jixiao offline installer: run from the unpacked release directory, needs no network.
#
#   sudo ./install.sh [options]              first installation
#   sudo ./install.sh --upgrade [options]    back up, migrate, switch to this release, restart
#   sudo ./install.sh --rollback [options]   back to the previous release and its pre-upgrade backup
#
# Options (defaults in brackets):
#   --prefix DIR        releases and the `current`/`previous` links     [/opt/jixiao]
#   --etc DIR           jixiao.env (secret key, DATABASE_URL …)         [/etc/jixiao]
#   --var DIR           media, backups, logs (JIXIAO_VAR_DIR)           [/var/lib/jixiao]
#   --user NAME         service account, created if missing             [jixiao]
#   --python PY         the target interpreter (must match PYTHON_VERSION) [python<PYTHON_VERSION>]
#   --database-url URL  written to a new jixiao.env                    [$DATABASE_URL]
#   --set KEY=VALUE     put KEY=VALUE into jixiao.env (repeatable)
#   --bind HOST:PORT    gunicorn's address (JIXIAO_BIND)                [127.0.0.1:8000]
#   --no-systemd        do not install units; start gunicorn and the worker as daemons with pid files
#                       (automatic when systemd is not running, e.g. in a container or CI)
#   --no-start          install (and migrate) but start nothing
#   --yes               do not ask before a rollback
# See OPERATIONS.md (docs/operations.md) for what each step does and how to run it in production.
set -euo pipefail
# Releases are world-readable code; jixiao.env (640) and the data directory (750) are tightened below.
umask 022
T0=$(date +%s)
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE"
VERSION=$(cat VERSION)
PYVER=$(cat PYTHON_VERSION)

MODE=install PREFIX=/opt/jixiao ETC=/etc/jixiao VAR=/var/lib/jixiao SVC_USER=jixiao PY="" BIND=127.0.0.1:8000
DB_URL=${DATABASE_URL:-} SYSTEMD=auto START=1 YES=0 SETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --upgrade) MODE=upgrade; shift ;;
    --rollback) MODE=rollback; shift ;;
    --prefix) PREFIX=$2; shift 2 ;;
    --etc) ETC=$2; shift 2 ;;
    --var) VAR=$2; shift 2 ;;
    --user) SVC_USER=$2; shift 2 ;;
    --python) PY=$2; shift 2 ;;
    --database-url) DB_URL=$2; shift 2 ;;
    --set) SETS+=("$2"); shift 2 ;;
    --bind) BIND=$2; shift 2 ;;
    --no-systemd) SYSTEMD=no; shift ;;
    --no-start) START=0; shift ;;
    --yes) YES=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ "$SYSTEMD" = auto ]; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then SYSTEMD=yes; else SYSTEMD=no; fi
fi
ENVFILE=$ETC/jixiao.env
REL=$PREFIX/releases/$VERSION
UNITS=(jixiao-web jixiao-worker)

say() { echo "[jixiao $VERSION +$(($(date +%s) - T0))s] $*"; }
die() { echo "[jixiao $VERSION] 错误 / error: $*" >&2; exit 1; }

# Commands run as the service account with jixiao.env loaded (root stays root when --user root).
as_service() {
  local envs=()
  mapfile -t envs < <(env_lines; echo "JIXIAO_STATIC_ROOT=$PREFIX/current/static")
  if [ "$(id -u)" = 0 ] && [ "$SVC_USER" != root ]; then
    runuser -u "$SVC_USER" -- env "${envs[@]}" "$@"
  else
    env "${envs[@]}" "$@"
  fi
}
as_service_raw() { # without jixiao.env (it may not exist yet)
  if [ "$(id -u)" = 0 ] && [ "$SVC_USER" != root ]; then runuser -u "$SVC_USER" -- "$@"; else "$@"; fi
}
# KEY=VALUE lines of jixiao.env without the quotes (values are written single-quoted).
env_lines() { sed -n "s/^\([A-Z_][A-Z0-9_]*\)='\(.*\)'$/\1=\2/p" "$ENVFILE"; }
env_get() { env_lines | sed -n "s/^$1=//p" | tail -1; }
env_put() { # KEY VALUE: replace or append, single-quoted for both systemd and the shell
  local key=$1 value=$2
  case "$value" in *"'"*|*$'\n'*) die "$key: a value may not contain ' or a newline" ;; esac
  if grep -q "^$key=" "$ENVFILE"; then
    local tmp; tmp=$(mktemp "$ETC/.env.XXXXXX")
    awk -v k="$key" -v v="$value" 'index($0, k "=") == 1 { print k "='\''" v "'\''"; next } { print }' "$ENVFILE" >"$tmp"
    cat "$tmp" >"$ENVFILE"; rm -f "$tmp"
  else
    printf "%s='%s'\n" "$key" "$value" >>"$ENVFILE"
  fi
}

verify_manifest() {
  say "清单校验 / checking MANIFEST.sha256"
  sha256sum --quiet --strict -c MANIFEST.sha256 || die "文件与清单不符，安装包已损坏或被改动 / files differ from the manifest"
}

find_python() {
  local candidate
  # The system interpreter first: a Python under a home directory (pyenv) is often unreadable by
  # the service user.
  for candidate in $PY "/usr/bin/python$PYVER" "python$PYVER" python3; do
    if command -v "$candidate" >/dev/null 2>&1 \
      && [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" = "$PYVER" ]; then
      command -v "$candidate"; return
    fi
  done
  die "需要 Python $PYVER（本安装包的轮子为它构建）/ Python $PYVER is required by the bundled wheels"
}

make_venv() {
  local python; python=$(find_python)
  if [ -x "$REL/venv/bin/jixiao" ]; then say "$REL exists: reusing it"; return; fi
  say "虚拟环境 / virtualenv $REL/venv (bundled wheels only, --no-index)"
  rm -rf "$REL"; mkdir -p "$REL"
  "$python" -m venv --without-pip "$REL/venv"
  local pip=("$REL/venv/bin/python" "$(ls "$HERE"/wheels/pip-*.whl)/pip" --isolated --disable-pip-version-check
    --no-cache-dir --no-input install --quiet --no-index --find-links "$HERE/wheels")
  # Dependencies against the hashes exported from uv.lock, then the project itself.
  "${pip[@]}" --require-hashes --only-binary=:all: -r "$HERE/requirements.txt"
  "${pip[@]}" --no-deps "$HERE"/wheels/jixiao-*.whl
  # SM3 of every file, with the SM3 of the cryptography wheel just installed (GB/T 32905).
  "$REL/venv/bin/python" - "$HERE" <<'EOF'
import json, pathlib, sys
from jixiao.sm3 import Sm3Stream
here = pathlib.Path(sys.argv[1])
bad = []
for name, entry in json.loads((here / "manifest.json").read_text())["files"].items():
    digest = Sm3Stream()
    with (here / name).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != entry["sm3"]:
        bad.append(name)
sys.exit(f"SM3 mismatch: {', '.join(bad)}" if bad else 0)
EOF
  cp -a "$HERE/VERSION" "$HERE/manifest.json" "$REL/"
  as_service_raw "$REL/venv/bin/python" -c "import jixiao" \
    || die "服务账号 $SVC_USER 无法运行 $python（目录权限？）/ $SVC_USER cannot run $python: use --python with a system interpreter"
}

ensure_user_and_dirs() {
  if ! id "$SVC_USER" >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "创建服务账号需要 root / creating user $SVC_USER needs root"
    say "服务账号 / service user $SVC_USER"
    useradd --system --user-group --home-dir "$VAR" --no-create-home --shell /usr/sbin/nologin "$SVC_USER"
  fi
  mkdir -p "$PREFIX/releases" "$PREFIX/bin" "$ETC" "$VAR"/{media,backups,log,run}
  chmod 755 "$PREFIX" "$PREFIX/releases" "$PREFIX/bin"
  if [ "$(id -u)" = 0 ]; then
    chown "$SVC_USER:" "$VAR" "$VAR"/{media,backups,log,run}
    chown "root:$(id -gn "$SVC_USER")" "$ETC"
  fi
  chmod 750 "$VAR" "$ETC"
}

write_env() {
  if [ ! -f "$ENVFILE" ]; then
    [ -n "$DB_URL" ] || die "请用 --database-url 或 DATABASE_URL 指定 PostgreSQL / give --database-url postgres://…"
    say "环境文件 / writing $ENVFILE (new secret key)"
    local key; key=$("$(find_python)" -c 'import secrets; print(secrets.token_urlsafe(64))')
    (umask 077 && : >"$ENVFILE")
    {
      echo "# Jixiao settings (docs/operations.md lists every variable). Read by systemd and $PREFIX/bin/jixiao."
      echo "# Keep this file secret: the key signs sessions. Values are single-quoted."
    } >>"$ENVFILE"
    env_put JIXIAO_PRODUCTION 1
    env_put DJANGO_SECRET_KEY "$key"
    env_put DATABASE_URL "$DB_URL"
    env_put JIXIAO_VAR_DIR "$VAR"
    env_put DJANGO_ALLOWED_HOSTS "$(hostname -f 2>/dev/null || hostname),localhost,127.0.0.1"
    env_put JIXIAO_PROXY_SSL_HEADER 1
    env_put JIXIAO_BIND "$BIND"
    env_put JIXIAO_WEB_WORKERS 4
  fi
  local kv
  for kv in "${SETS[@]}"; do
    case "$kv" in *=*) env_put "${kv%%=*}" "${kv#*=}" ;; *) die "--set wants KEY=VALUE, got $kv" ;; esac
  done
  if [ "$(id -u)" = 0 ]; then chown "root:$(id -gn "$SVC_USER")" "$ENVFILE"; fi
  chmod 640 "$ENVFILE"
  [ -n "$(env_get JIXIAO_RATING_SENDER)" ] || die "JIXIAO_PRODUCTION=1 需要短信/微信发送器：--set JIXIAO_RATING_SENDER=模块.类 / set JIXIAO_RATING_SENDER (docs/operations.md)"
}

# $PREFIX/bin/jixiao: the `jixiao` command of the current release, as the service user, with jixiao.env.
write_wrapper() {
  cat >"$PREFIX/bin/jixiao" <<EOF
#!/usr/bin/env bash
# Generated by install.sh: runs the current release's jixiao with $ENVFILE as $SVC_USER.
set -euo pipefail
mapfile -t envs < <(sed -n "s/^\\([A-Z_][A-Z0-9_]*\\)='\\(.*\\)'\$/\\1=\\2/p" "$ENVFILE"; echo "JIXIAO_STATIC_ROOT=$PREFIX/current/static")
if [ "\$(id -u)" = 0 ] && [ "$SVC_USER" != root ]; then
  exec runuser -u "$SVC_USER" -- env "\${envs[@]}" "$PREFIX/current/venv/bin/jixiao" "\$@"
fi
exec env "\${envs[@]}" "$PREFIX/current/venv/bin/jixiao" "\$@"
EOF
  chmod 755 "$PREFIX/bin/jixiao"
}

migrate() { # RELEASE_DIR
  say "数据库迁移 / migrate"
  as_service "$1/venv/bin/jixiao" migrate --noinput -v 0
}

# Static files live in the release (JIXIAO_STATIC_ROOT=<release>/static): collected at build time
# when the package has them, so an upgrade's downtime is the backup and the migration only.
static_files() { # RELEASE_DIR
  [ ! -d "$1/static" ] || return 0
  if [ -d "$HERE/static" ] && [ "$1" = "$REL" ]; then
    cp -a "$HERE/static" "$1/static"
  else
    say "静态文件 / collectstatic (not in the package)"
    mkdir -p "$1/static"
    [ "$(id -u)" != 0 ] || chown "$SVC_USER:" "$1/static"
    as_service env JIXIAO_STATIC_ROOT="$1/static" "$1/venv/bin/jixiao" collectstatic --noinput -v 0
  fi
}

render_unit() { # NAME → the unit text with this installation's paths
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@ETC@|$ETC|g" -e "s|@VAR@|$VAR|g" -e "s|@USER@|$SVC_USER|g" \
    "$HERE/systemd/$1.service"
}

install_units() {
  if [ "$SYSTEMD" = yes ]; then
    local unit
    for unit in "${UNITS[@]}"; do render_unit "$unit" >"/etc/systemd/system/$unit.service"; done
    systemctl daemon-reload
    systemctl enable "${UNITS[@]/%/.service}" >/dev/null
    say "systemd units installed: ${UNITS[*]}"
  else
    say "没有 systemd / no systemd: these units would go to /etc/systemd/system (gunicorn and the worker run as daemons instead):"
    local unit
    for unit in "${UNITS[@]}"; do echo "----- $unit.service"; render_unit "$unit"; done
    echo "-----"
  fi
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

services_stop() {
  if [ "$SYSTEMD" = yes ]; then systemctl stop "${UNITS[@]}" 2>/dev/null || true; return; fi
  local pidfile pid
  for pidfile in "$VAR/run/web.pid" "$VAR/run/worker.pid"; do
    pid=$(cat "$pidfile" 2>/dev/null) || continue  # read once: gunicorn removes its own on exit
    if kill -TERM "$pid" 2>/dev/null; then
      # The worker finishes the job in hand (TERM); a scoring run may take minutes at province scale.
      for _ in $(seq 1 1200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
}

services_start() {
  [ "$START" = 1 ] || { say "--no-start: nothing started"; return; }
  if [ "$SYSTEMD" = yes ]; then systemctl restart "${UNITS[@]}"; say "started: ${UNITS[*]}"; return; fi
  local bind workers
  bind=$(env_get JIXIAO_BIND); workers=$(env_get JIXIAO_WEB_WORKERS)
  as_service "$PREFIX/current/venv/bin/gunicorn" --daemon --pid "$VAR/run/web.pid" \
    --bind "${bind:-$BIND}" --workers "${workers:-4}" --worker-class sync --timeout 120 \
    --access-logfile "$VAR/log/access.log" --error-logfile "$VAR/log/web.log" \
    --chdir "$VAR" jixiao.config.wsgi:application
  # shellcheck disable=SC2016  # expanded by the inner shell, from its arguments. `cmd &` alone (not
  # `a && cmd &`, a subshell) so that $! is the worker itself, which services_stop signals.
  as_service bash -c 'cd "$1" || exit 1; nohup "$2" worker >>"$1/log/worker.log" 2>&1 & echo $! >"$1/run/worker.pid"' \
    _ "$VAR" "$PREFIX/current/venv/bin/jixiao"
  for _ in $(seq 1 100); do pid_alive "$VAR/run/web.pid" && break; sleep 0.1; done
  pid_alive "$VAR/run/web.pid" || die "gunicorn did not start: see $VAR/log/web.log"
  say "started (no systemd): gunicorn on ${bind:-$BIND} (pid $(cat "$VAR/run/web.pid")), worker (pid $(cat "$VAR/run/worker.pid")); logs in $VAR/log"
}

switch_to() { # TARGET_DIR: current → TARGET, previous → what current was
  local old=""
  [ -L "$PREFIX/current" ] && old=$(readlink -f "$PREFIX/current")
  ln -sfn "$1" "$PREFIX/current.new" && mv -T "$PREFIX/current.new" "$PREFIX/current"
  if [ -n "$old" ] && [ "$old" != "$(readlink -f "$1")" ]; then
    ln -sfn "$old" "$PREFIX/previous.new" && mv -T "$PREFIX/previous.new" "$PREFIX/previous"
  fi
}

do_install() {
  [ ! -e "$PREFIX/current" ] || die "$PREFIX/current exists: use --upgrade"
  verify_manifest
  ensure_user_and_dirs
  make_venv
  write_env
  static_files "$REL"
  migrate "$REL"
  switch_to "$REL"
  write_wrapper
  install_units
  services_start
  say "安装完成 / installed $VERSION in $PREFIX (command: $PREFIX/bin/jixiao)"
}

do_upgrade() {
  [ -L "$PREFIX/current" ] || die "no installation in $PREFIX: install first"
  local old old_version backup
  old=$(readlink -f "$PREFIX/current"); old_version=$(cat "$old/VERSION")
  [ "$old" != "$(readlink -m "$REL")" ] || die "$VERSION is already the current release"
  verify_manifest
  ensure_user_and_dirs
  make_venv
  write_env
  static_files "$REL"
  backup="$VAR/backups/pre-upgrade-$old_version-to-$VERSION-$(date +%Y%m%dT%H%M%S)"
  say "升级前备份 / backup before upgrading from $old_version: $backup"
  services_stop
  if ! as_service "$old/venv/bin/jixiao" backup --out "$backup"; then
    services_start; die "备份失败，未升级 / backup failed: nothing changed"
  fi
  printf '%s\n%s\n' "$old_version" "$backup" >"$REL/upgraded-from"
  if ! migrate "$REL"; then
    say "迁移失败：恢复备份并退回 $old_version / migration failed: restoring the backup"
    as_service "$old/venv/bin/jixiao" restore "$backup" --force
    services_start
    die "升级失败，已退回 / upgrade failed, $old_version restored"
  fi
  switch_to "$REL"
  write_wrapper
  install_units
  services_start
  say "升级完成 / upgraded $old_version → $VERSION (roll back: ./install.sh --rollback from this directory)"
}

do_rollback() {
  [ -L "$PREFIX/current" ] && [ -L "$PREFIX/previous" ] || die "nothing to roll back to in $PREFIX"
  local cur prev info backup
  cur=$(readlink -f "$PREFIX/current"); prev=$(readlink -f "$PREFIX/previous")
  info=$cur/upgraded-from
  [ -f "$info" ] || die "$cur was not installed by --upgrade: no pre-upgrade backup known"
  backup=$(sed -n 2p "$info")
  say "退回 / rolling back $(cat "$cur/VERSION") → $(cat "$prev/VERSION"), restoring $backup"
  say "升级后写入的数据将丢失 / data written since the upgrade is lost"
  if [ "$YES" != 1 ]; then read -r -p "继续？continue? [y/N] " answer; [ "$answer" = y ] || exit 1; fi
  services_stop
  as_service "$prev/venv/bin/jixiao" restore "$backup" --force
  ln -sfn "$prev" "$PREFIX/current.new" && mv -T "$PREFIX/current.new" "$PREFIX/current"
  ln -sfn "$cur" "$PREFIX/previous.new" && mv -T "$PREFIX/previous.new" "$PREFIX/previous"
  rm -f "$info"  # rolling back twice would restore the same backup over a newer state
  install_units
  services_start
  say "已退回 / rolled back to $(cat "$prev/VERSION")"
}

case "$MODE" in
  install) do_install ;;
  upgrade) do_upgrade ;;
  rollback) do_rollback ;;
esac
