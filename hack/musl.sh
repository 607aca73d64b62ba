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
src=/usr/lib/x86_64-linux-gnu/libseccomp.a
[ -r "$src" ] || { echo "musl.sh: $src not found: run \`make setup\` (installs libseccomp-dev)" >&2; exit 1; }
lib=$dir/lib/libseccomp.a
if [ -f "$lib" ] && [ "$lib" -nt "$src" ] && [ "$lib" -nt "$(dirname "$0")/musl/fortify.c" ]; then
	exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/include" "$dir/lib"
ln -s /usr/include/linux /usr/include/asm-generic /usr/include/seccomp.h /usr/include/seccomp-syscalls.h "$dir/include/"
ln -s /usr/include/x86_64-linux-gnu/asm "$dir/include/asm"
musl-gcc -O2 -Wall -Wextra -c -o "$dir/fortify.o" "$(dirname "$0")/musl/fortify.c"
cp "$src" "$lib.tmp"
ar rs "$lib.tmp" "$dir/fortify.o" 2>/dev/null
mv "$lib.tmp" "$lib"
