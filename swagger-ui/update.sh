#!/usr/bin/env bash
# Re-fetch swagger-ui-dist from npm and refresh the embedded copy.
#
#   ./update.sh 5.35.0
#
# Copies the same fixed set of files into dist/, writes VERSION and updates the
# Version constant in swaggerui.go. Run `go test ./...` afterwards.
set -euo pipefail

version="${1:?usage: $0 <swagger-ui-dist version, e.g. 5.35.0>}"
if [[ ! "$version" =~ ^5\.[0-9]+\.[0-9]+$ ]]; then
	echo "update.sh: expected a 5.x.y version, got '$version'" >&2
	exit 1
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "swagger-ui-dist@${version}" >/dev/null)
tar -xzf "$tmp/swagger-ui-dist-${version}.tgz" -C "$tmp"
pkg="$tmp/package"

required=(
	swagger-ui-bundle.js
	swagger-ui-standalone-preset.js
	swagger-ui.css
	oauth2-redirect.html
	favicon-32x32.png
	favicon-16x16.png
	LICENSE
)
optional=(oauth2-redirect.js NOTICE)

rm -rf "$here/dist"
mkdir -p "$here/dist"
for f in "${required[@]}"; do
	cp "$pkg/$f" "$here/dist/$f"
done
for f in "${optional[@]}"; do
	if [[ -f "$pkg/$f" ]]; then
		cp "$pkg/$f" "$here/dist/$f"
	fi
done

printf '%s\n' "$version" >"$here/VERSION"
sed -i.bak -E "s/^const Version = \"[^\"]*\"/const Version = \"${version}\"/" "$here/swaggerui.go"
rm -f "$here/swaggerui.go.bak"

echo "swagger-ui-dist ${version}:"
ls -l "$here/dist"
