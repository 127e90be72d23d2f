#!/usr/bin/env bash
# Makes the base image the Dockerfiles in deploy/docker/ start FROM, on a
# machine that cannot pull images (the CI machine): a Debian bookworm minbase
# root filesystem from debootstrap, the Node 24 binary of the `node` npm
# package (node_modules/node, the one the npm scripts run), npm from the `npm`
# package, the user `node` (uid 1000) of the official image, and this
# machine's CA bundle with NODE_EXTRA_CA_CERTS naming it, since the npm
# registry is reached through it here. Imported as node:24-bookworm-slim,
# so the Dockerfiles stay the ones users build against the official image.
#
# Usage: scripts/docker-base-image.sh [tag]   (root; dockerd running)
set -euo pipefail
cd "$(dirname "$0")/.."

tag="${1:-node:24-bookworm-slim}"
npm_version="11.6.2"
node_bin="node_modules/node/bin/node"
ca_bundle="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
[ -x "$node_bin" ] || { echo "docker-base-image: $node_bin is missing; run npm ci first" >&2; exit 1; }
[ -f "$ca_bundle" ] || { echo "docker-base-image: no CA bundle at $ca_bundle" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

debootstrap --variant=minbase bookworm "$rootfs" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

install -m 0755 "$(readlink -f "$node_bin")" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
(cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null)
tar -xzf "$work/npm-$npm_version.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
mkdir -p "$rootfs/etc/ssl/certs"
install -m 0644 "$ca_bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"

# The official image's user: groupadd/useradd --uid 1000 node.
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
node_version="$(chroot "$rootfs" node --version)"

# What a slim image leaves out.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/log/*.log

tar -C "$rootfs" -c . | docker import \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change 'CMD ["node"]' - "$tag" >/dev/null
echo "docker-base-image: $tag (node $node_version, npm $npm_version)"
