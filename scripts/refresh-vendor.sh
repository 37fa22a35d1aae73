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
# Searchable selects (long lists of units, officials, indicators); progressive enhancement of <select>.
mkdir -p "$dest/tom-select"
cp node_modules/tom-select/dist/js/tom-select.complete.min.js "$dest/tom-select/"
cp node_modules/tom-select/dist/css/tom-select.default.min.css "$dest/tom-select/"
cp node_modules/tom-select/LICENSE "$dest/tom-select/LICENSE"
# The source maps are not shipped: drop their references (collectstatic's manifest would need them).
sed -i '/sourceMappingURL=/d' "$dest/tom-select/tom-select.complete.min.js" "$dest/tom-select/tom-select.default.min.css"
echo "vendor assets refreshed:"; ls -la "$dest"/*
