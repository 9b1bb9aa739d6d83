#!/usr/bin/env bash
# Install the Debian packages prose needs, only those that are missing.
# Safe to run repeatedly; needs root (or sudo) only when something is missing.
set -euo pipefail

pkgs=(build-essential cmake pkg-config libssl-dev libuv1-dev libsrtp2-dev libcriterion-dev
      libsqlite3-dev libxml2-dev libjansson-dev python3
      libavahi-client-dev)
# Extra tooling for CI: clang for the fuzz targets, tshark as an independent
# decoder of our floor-control packets, and
# iproute2/nftables for the network-namespace tests.
if [[ "${PROSE_DEPS_EXTRA:-0}" == 1 ]]; then
  pkgs+=(clang libclang-rt-14-dev tshark iproute2 nftables avahi-daemon avahi-utils dbus)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer before installing.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
# Installing a daemon (avahi, dbus) must not start it: an avahi in the root
# namespace would announce off the machine. The tests start their own inside
# network namespaces. Keep services from starting during the install.
guard=""
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$guard" >/dev/null
  $SUDO chmod 755 "$guard"
fi
trap '[[ -n "$guard" ]] && $SUDO rm -f "$guard"' EXIT
$SUDO apt-get update -q >/dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
