#!/usr/bin/env bash
# Build the offline release: dist/jixiao-<version>-linux-x86_64.tar.gz (docs/operations.md).
#
#   scripts/build-release.sh [--version V] [--python python3.11] [--out DIR] [--source DIR]
#                            [--static-cache DIR]
#
# Needs the registries (this is the one step that does): the locked runtime dependencies are
# exported from uv.lock with their hashes and downloaded as wheels for the target Python, which
# pip refuses unless every hash matches. The target then installs with `pip --no-index`.
# --version overrides pyproject's version in a copy of the sources (CI builds an "older" release
# to test upgrades); the working tree is never changed. --source builds another checkout (a
# directory with pyproject.toml, uv.lock, README.md and src/, e.g. `git archive` of an older commit).
# The static files are collected (hashed and compressed: ~35 s of CPU) here, once, not on every
# target; --static-cache DIR reuses a collection of the same sources (CI builds two releases).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
# The project's own Python (for SM3 via jixiao.sm3 in the manifest); `make release` runs `make env` first.
PROJECT_PYTHON=${PROJECT_PYTHON:-$ROOT/.venv/bin/python}
PYTHON=python3.11
OUT=$ROOT/dist
VERSION=""
SOURCE=$ROOT
STATIC_CACHE=""
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION=$2; shift 2 ;;
    --python) PYTHON=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --source) SOURCE=$(cd "$2" && pwd); shift 2 ;;
    --static-cache) STATIC_CACHE=$2; shift 2 ;;
    *) echo "build-release: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$VERSION" ] || VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$SOURCE/pyproject.toml" | head -1)
PYVER=$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
NAME=jixiao-$VERSION-linux-x86_64
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/$NAME
mkdir -p "$STAGE/wheels" "$OUT"
start=$(date +%s)

echo "build-release: $NAME for Python $PYVER"
# 1. The project wheel, built from a copy so that a version override never touches the tree.
#    The vendored front-end assets (web/static/vendor) and compiled translations (locale/*.mo)
#    are package data: hatchling puts every file under src/jixiao into the wheel.
mkdir -p "$WORK/src"
cp -a "$SOURCE"/{pyproject.toml,uv.lock,README.md} "$WORK/src/"
cp -a "$SOURCE/src" "$WORK/src/src"
find "$WORK/src/src" -name __pycache__ -prune -exec rm -rf {} +
sed -i "s/^version = \".*\"$/version = \"$VERSION\"/" "$WORK/src/pyproject.toml"
if command -v msgfmt >/dev/null 2>&1; then
  # Recompile the catalogues so a stale .mo can never ship (the committed ones are used otherwise).
  for po in "$WORK"/src/src/jixiao/locale/*/LC_MESSAGES/django.po; do msgfmt -o "${po%.po}.mo" "$po"; done
fi
(cd "$WORK/src" && "$UV" build --wheel --quiet --out-dir "$STAGE/wheels")
wheel=$(ls "$STAGE"/wheels/jixiao-*.whl)
for needed in jixiao/web/static/vendor/echarts/echarts.min.js jixiao/locale/en/LC_MESSAGES/django.mo; do
  "$PYTHON" -c "import sys, zipfile; sys.exit(0 if '$needed' in zipfile.ZipFile('$wheel').namelist() else 1)" \
    || { echo "build-release: $needed is missing from the wheel" >&2; exit 1; }
done

# 2. Every locked runtime dependency, hashes from uv.lock checked by pip (--require-hashes).
(cd "$WORK/src" && "$UV" export --frozen --no-dev --no-emit-project --format requirements-txt --quiet \
  -o "$WORK/requirements.txt")
"$PYTHON" -m pip download -qq --no-deps --only-binary=:all: --require-hashes \
  -r "$WORK/requirements.txt" -d "$STAGE/wheels"
cp "$WORK/requirements.txt" "$STAGE/requirements.txt"
# pip itself, from the target Python's own ensurepip: the target venv is made --without-pip
# (Debian's python3 lacks ensurepip unless python3-venv is installed) and pip runs from its wheel.
"$PYTHON" - "$STAGE/wheels" <<'EOF'
import ensurepip, pathlib, shutil, sys
bundled = pathlib.Path(ensurepip.__file__).parent / "_bundled"
shutil.copy(next(bundled.glob("pip-*.whl")), sys.argv[1])
EOF

# 3. The static files, as `collectstatic` makes them on a server (whitenoise's hashed and compressed
#    manifest storage), from the sources and the project's venv (synced from the same uv.lock).
#    Sources with another lock would collect other packages' assets: the target collects them then.
if cmp -s "$SOURCE/uv.lock" "$ROOT/uv.lock"; then
  if [ -n "$STATIC_CACHE" ] && [ -f "$STATIC_CACHE/staticfiles.json" ]; then
    cp -a "$STATIC_CACHE" "$STAGE/static"
  else
    JIXIAO_VAR_DIR="$WORK/var" JIXIAO_STATIC_ROOT="$STAGE/static" PYTHONPATH="$WORK/src/src" \
      "$PROJECT_PYTHON" -m jixiao.cli collectstatic --noinput -v 0
    if [ -n "$STATIC_CACHE" ]; then rm -rf "$STATIC_CACHE" && cp -a "$STAGE/static" "$STATIC_CACHE"; fi
  fi
fi

# 4. The installer, service units, the reverse-proxy sample and the operations guide.
cp -a packaging/install.sh "$STAGE/install.sh"
chmod 755 "$STAGE/install.sh"
cp -a packaging/systemd packaging/nginx "$STAGE/"
cp docs/operations.md "$STAGE/OPERATIONS.md"
printf '%s\n' "$VERSION" >"$STAGE/VERSION"
printf '%s\n' "$PYVER" >"$STAGE/PYTHON_VERSION"

# 5. The manifest: SHA-256 (sha256sum -c format, checked by install.sh before anything else) and
#    manifest.json with SHA-256 and SM3 of every file (SM3 from `cryptography`, as jixiao.sm3).
(cd "$STAGE" && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum >"$WORK/MANIFEST.sha256")
mv "$WORK/MANIFEST.sha256" "$STAGE/MANIFEST.sha256"
PYTHONPATH="$ROOT/src" "$PROJECT_PYTHON" - "$STAGE" "$VERSION" "$PYVER" <<'EOF'
import hashlib, json, pathlib, sys
from jixiao.sm3 import Sm3Stream
stage, version, pyver = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
files = {}
for line in (stage / "MANIFEST.sha256").read_text().splitlines():
    sha, name = line.split("  ", 1)
    sm3, path = Sm3Stream(), stage / name
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sm3.update(chunk)
    files[name] = {"size": path.stat().st_size, "sha256": sha, "sm3": sm3.hexdigest()}
doc = {"name": "jixiao", "version": version, "python": pyver, "platform": "linux-x86_64", "files": files}
(stage / "manifest.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
EOF

# Level 1: the wheels are zip files already, so higher levels cost seconds and save little.
tar -C "$WORK" -I "gzip -1" -cf "$OUT/$NAME.tar.gz" "$NAME"
echo "build-release: $OUT/$NAME.tar.gz ($(du -h "$OUT/$NAME.tar.gz" | cut -f1), $(find "$STAGE/wheels" -name '*.whl' | wc -l) wheels, $(($(date +%s) - start)) s)"
