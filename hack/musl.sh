#!/bin/bash
# musl.sh DIR: makes DIR a place musl-gcc builds hako's cgo binaries from:
# DIR/include holds the kernel's headers (musl-gcc searches only musl's
# own) and libseccomp's, DIR/lib a libseccomp.a: Debian's (built against
# glibc) plus __fprintf_chk, the one glibc-only function it calls
# (hack/musl/fortify.c). Idempotent; the Makefile runs it before a build.
set -eu
dir=$1
if ! command -v musl-gcc >/dev/null; then
	echo "musl.sh: musl-gcc not found: run \`make setup\` (installs musl-tools), or build with LIBC=glibc" >&2
	exit 1
fi
triplet=$(gcc -dumpmachine) # x86_64-linux-gnu here
src=/usr/lib/$triplet/libseccomp.a
[ -r "$src" ] || { echo "musl.sh: $src not found: run \`make setup\` (installs libseccomp-dev)" >&2; exit 1; }
lib=$dir/lib/libseccomp.a
# Made again when libseccomp.a, the shim or this script changed (by
# content: dpkg keeps a package's file times, older than a copy here).
stamp=$(cat "$src" "$(dirname "$0")/musl/fortify.c" "$0" | sha256sum)
if [ -f "$lib" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ]; then
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/include" "$dir/lib"
ln -s /usr/include/linux /usr/include/asm-generic /usr/include/seccomp.h /usr/include/seccomp-syscalls.h "$dir/include/"
ln -s "/usr/include/$triplet/asm" "$dir/include/asm"
musl-gcc -O2 -Wall -Wextra -c -o "$dir/fortify.o" "$(dirname "$0")/musl/fortify.c"
cp "$src" "$lib.tmp"
ar rs "$lib.tmp" "$dir/fortify.o" 2>/dev/null
mv "$lib.tmp" "$lib"
echo "$stamp" >"$dir/stamp"
