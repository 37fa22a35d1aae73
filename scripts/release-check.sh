#!/usr/bin/env bash
# CI: the offline release installs, runs, upgrades and rolls back with no network at all.
#
#   scripts/release-check.sh            (as root: needs unshare -n, useradd and PostgreSQL's socket)
#
# 1. Builds two releases of this checkout: the "previous" one (version <V>.dev0, or the commit
#    RELEASE_CHECK_OLD_REF when set) and the current one (<V>).
# 2. In a network namespace with only loopback (unshare -n: a dependency that downloads anything
#    fails), with PostgreSQL reached through its Unix socket:
#    - PostgreSQL: installs the previous release (service user, venv from bundled wheels, env file,
#      migrate, collectstatic, gunicorn + worker), checks the login page and /healthz, creates an
#      account, upgrades to the current release (backup, migrate, restart), checks again and that
#      the account survived, rolls back and checks again;
#    - SQLite: installs the current release, checks the login page, then `jixiao generate --scale
#      tiny`, `jixiao compute --cycle 2025` and `jixiao verify`.
# Prints the package size and each phase's time. Everything lives under one temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
PGSOCKET=${PGSOCKET:-/var/run/postgresql}
SVC_USER=${RELEASE_CHECK_USER:-jixiao}
PG_PORT=18431 SQLITE_PORT=18432
# The target's interpreter: the distribution's, as on a real server (Debian 12: 3.11).
TARGET_PYTHON=${RELEASE_CHECK_PYTHON:-/usr/bin/python3.11}
log() { echo "[release-check +$(($(date +%s) - ${T0:-$(date +%s)}))s] $*"; }

inside() { # runs in the network namespace: $1 = work directory
  local W=$1
  ip link set lo up
  # Prove there is no way out: any address but loopback is unreachable.
  if timeout 5 bash -c 'exec 3<>/dev/tcp/1.1.1.1/443' 2>/dev/null; then
    echo "release-check: the namespace reaches the network" >&2; exit 1
  fi
  mkdir -p "$W/unpacked"
  tar -C "$W/unpacked" -xzf "$W/dist/jixiao-$OLD_VERSION-linux-x86_64.tar.gz"
  tar -C "$W/unpacked" -xzf "$W/dist/jixiao-$NEW_VERSION-linux-x86_64.tar.gz"
  local OLD_DIR=$W/unpacked/jixiao-$OLD_VERSION-linux-x86_64 NEW_DIR=$W/unpacked/jixiao-$NEW_VERSION-linux-x86_64

  # --- PostgreSQL: install the previous release, upgrade, roll back -----------------------------
  local db=jixiao_release_check
  psql -h "$PGSOCKET" -U postgres -qX -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  local P=$W/pg
  local opts=(--prefix "$P/opt" --etc "$P/etc" --var "$P/var" --user "$SVC_USER" --no-systemd --python "$TARGET_PYTHON"
    --bind "127.0.0.1:$PG_PORT" --database-url "postgres://postgres@${PGSOCKET//\//%2F}/$db"
    --set JIXIAO_RATING_SENDER=jixiao.surveys.senders.MemorySender --set JIXIAO_WEB_WORKERS=2)
  trap 'stop_all "$WORKDIR"' EXIT
  local t
  t=$(date +%s); "$OLD_DIR/install.sh" "${opts[@]}"; INSTALL_S=$(($(date +%s) - t))
  check_web "$PG_PORT" "$OLD_VERSION" "$P/opt"; check_healthz "$PG_PORT"
  "$P/opt/bin/jixiao" create-office release_check_office >/dev/null
  log "PostgreSQL: $OLD_VERSION installed in ${INSTALL_S}s and serving"

  t=$(date +%s); "$NEW_DIR/install.sh" --upgrade "${opts[@]}"; UPGRADE_S=$(($(date +%s) - t))
  check_web "$PG_PORT" "$NEW_VERSION" "$P/opt"; check_healthz "$PG_PORT"
  "$P/opt/bin/jixiao" shell -c "from jixiao.accounts.models import User; assert User.objects.filter(username='release_check_office').exists()"
  ls "$P"/var/backups/pre-upgrade-*/database.dump >/dev/null
  log "PostgreSQL: upgraded $OLD_VERSION → $NEW_VERSION in ${UPGRADE_S}s (backup taken, data kept)"

  t=$(date +%s); "$NEW_DIR/install.sh" --rollback --yes "${opts[@]}"; ROLLBACK_S=$(($(date +%s) - t))
  check_web "$PG_PORT" "$OLD_VERSION" "$P/opt"
  log "PostgreSQL: rolled back to $OLD_VERSION in ${ROLLBACK_S}s"
  stop_one "$P/var"
  psql -h "$PGSOCKET" -U postgres -qX -c "DROP DATABASE $db" >/dev/null

  # --- SQLite: a fresh install of the current release, then a demo scored and verified ----------
  local S=$W/sqlite
  t=$(date +%s)
  "$NEW_DIR/install.sh" --prefix "$S/opt" --etc "$S/etc" --var "$S/var" --user "$SVC_USER" --no-systemd \
    --python "$TARGET_PYTHON" --bind "127.0.0.1:$SQLITE_PORT" --database-url "sqlite:///$S/var/jixiao.sqlite3" \
    --set JIXIAO_RATING_SENDER=jixiao.surveys.senders.MemorySender --set JIXIAO_WEB_WORKERS=2
  SQLITE_INSTALL_S=$(($(date +%s) - t))
  check_web "$SQLITE_PORT" "$NEW_VERSION" "$S/opt"
  stop_one "$S/var"  # the demo below creates demo accounts, which production refuses to serve
  t=$(date +%s)
  "$S/opt/bin/jixiao" generate --scale tiny >/dev/null
  "$S/opt/bin/jixiao" compute --cycle 2025
  "$S/opt/bin/jixiao" verify
  DEMO_S=$(($(date +%s) - t))
  log "SQLite: $NEW_VERSION installed in ${SQLITE_INSTALL_S}s; tiny demo generated, scored and verified in ${DEMO_S}s"
  printf 'install_pg=%s upgrade_pg=%s rollback_pg=%s install_sqlite=%s demo=%s\n' \
    "$INSTALL_S" "$UPGRADE_S" "$ROLLBACK_S" "$SQLITE_INSTALL_S" "$DEMO_S" >"$W/timings"
}

# The login page through the proxy's headers (HTTPS as seen by Django, an allowed host).
check_web() { # PORT VERSION PREFIX
  local body
  for _ in $(seq 1 60); do
    body=$(curl -sf -H 'Host: localhost' -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$1/accounts/login/") && break
    sleep 0.5
  done
  grep -q 'name="password"' <<<"${body:-}" || { echo "release-check: no login page on port $1" >&2; exit 1; }
  local current; current=$(cat "$3/current/VERSION")
  [ "$current" = "$2" ] || { echo "release-check: $3/current is $current, not $2" >&2; exit 1; }
  log "login page answers on 127.0.0.1:$1 ($2)"
}

check_healthz() { # PORT: waits for the worker's first periodic job
  local body=""
  for _ in $(seq 1 60); do
    body=$(curl -sf -H 'Host: localhost' -H 'X-Forwarded-Proto: https' "http://127.0.0.1:$1/healthz") && break
    sleep 0.5
  done
  grep -q '"ok": true' <<<"$body" || { echo "release-check: /healthz says ${body:-nothing}" >&2; exit 1; }
  log "/healthz: $body"
}

stop_one() { # VAR_DIR: the daemons install.sh started without systemd
  local pidfile
  for pidfile in "$1"/run/web.pid "$1"/run/worker.pid; do
    local pid; pid=$(cat "$pidfile" 2>/dev/null) || continue  # gunicorn removes its own on exit
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$pidfile"
  done
}
stop_all() { stop_one "$1/pg/var"; stop_one "$1/sqlite/var"; }

if [ "${1:-}" = --inside ]; then
  T0=$2; WORKDIR=$3; OLD_VERSION=$4; NEW_VERSION=$5
  inside "$3"
  stop_all "$WORKDIR"; trap - EXIT
  # Nothing of the installations may outlive the check (a daemon whose pid file named another process).
  if left=$(pgrep -f -- "$WORKDIR/"); then
    echo "release-check: processes left running: $left" >&2
    # shellcheck disable=SC2086  # one pid per word
    kill $left
    exit 1
  fi
  exit 0
fi

[ "$(id -u)" = 0 ] || { echo "release-check: run as root (unshare -n, useradd)" >&2; exit 1; }
T0=$(date +%s)
W=$(mktemp -d /tmp/jixiao-release-check.XXXXXX)
chmod 755 "$W"  # the service user reads its data directory below it
NEW_VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -1)
OLD_VERSION=$NEW_VERSION.dev0
if [ -n "${RELEASE_CHECK_OLD_REF:-}" ]; then
  mkdir -p "$W/old-source"
  git archive "$RELEASE_CHECK_OLD_REF" pyproject.toml uv.lock README.md src | tar -C "$W/old-source" -x
  old_source=(--source "$W/old-source")
else
  old_source=()
fi
log "building $NEW_VERSION and $OLD_VERSION (previous)"
t=$(date +%s)
bash scripts/build-release.sh --out "$W/dist" --static-cache "$W/static-cache"
BUILD_S=$(($(date +%s) - t))
bash scripts/build-release.sh --out "$W/dist" --version "$OLD_VERSION" --static-cache "$W/static-cache" \
  "${old_source[@]}"
SIZE=$(du -h "$W/dist/jixiao-$NEW_VERSION-linux-x86_64.tar.gz" | cut -f1)
log "unshare -n: install, upgrade and roll back with no network"
unshare -n bash "$0" --inside "$T0" "$W" "$OLD_VERSION" "$NEW_VERSION"
log "package $SIZE, build ${BUILD_S}s; $(cat "$W/timings")"
log "release check passed"
[ -n "${RELEASE_CHECK_KEEP:-}" ] || rm -rf "$W"
