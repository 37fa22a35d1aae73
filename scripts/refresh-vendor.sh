#!/usr/bin/env bash
# Refresh the front-end assets under src/jixiao/web/static/vendor from the npm registry.
# package.json and package-lock.json record the versions; the copied files are committed so that
# the product needs no Node and no internet (government intranets).
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --ignore-scripts
dest=src/jixiao/web/static/vendor
mkdir -p "$dest/echarts"
cp node_modules/echarts/dist/echarts.min.js "$dest/echarts/"
cp node_modules/echarts/LICENSE "$dest/echarts/LICENSE"
echo "vendor assets refreshed:"; ls -la "$dest"/*
