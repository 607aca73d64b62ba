#!/bin/bash
# Installs the Debian packages hako's build, tests and demo need, once:
# packages already installed are not touched, and apt is not even asked.
# Usage: hack/setup.sh [EXTRA_PACKAGE...]
set -eu
packages=(busybox-static libseccomp-dev gcc libc6-dev musl-tools "$@")
missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "setup: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
