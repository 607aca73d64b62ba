#!/bin/bash
# The checks `make verify` runs: formatting, vet, tidy go.mod files,
# per-module builds without the workspace, and builds without cgo for every
# module that does not need it.
set -eu
cd "$(dirname "$0")/.."
fail=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

unformatted=$(gofmt -l $(git ls-files '*.go') 2>&1 || true)
if [ -n "$unformatted" ]; then
	echo "verify: gofmt needed:"; echo "$unformatted"; fail=1
fi

go vet work || fail=1

# build PKG...: compiles packages, putting any command's binary in $out
# (go build alone would write a lone command into the working directory).
build() {
	local main=() lib=()
	for p in "$@"; do
		if [ "$(go list -f '{{.Name}}' "$p")" = main ]; then main+=("$p"); else lib+=("$p"); fi
	done
	[ ${#lib[@]} -eq 0 ] || go build "${lib[@]}"
	[ ${#main[@]} -eq 0 ] || go build -o "$out/" "${main[@]}"
}

# cgo is needed only by the pre-init stage and seccomp, and the commands
# that import them.
cgo_only='/nsenter/preinit$|^hako.dev/seccomp|^hako.dev/cmd/(hako|nsrun|seccomp)$'
for dir in $(go list -m -f '{{.Dir}}'); do
	mod=$(cd "$dir" && GOWORK=off go list -m)
	if ! (cd "$dir" && GOWORK=off go mod tidy -diff >/dev/null); then
		echo "verify: go mod tidy changes $mod:"; (cd "$dir" && GOWORK=off go mod tidy -diff) || true; fail=1
	fi
	all=$(cd "$dir" && GOWORK=off go list -f '{{if .GoFiles}}{{.ImportPath}}{{end}}' ./...)
	(cd "$dir" && GOWORK=off build $all) || { echo "verify: GOWORK=off build of $mod failed"; fail=1; }
	pkgs=$(echo "$all" | grep -Ev "$cgo_only" || true)
	if [ -n "$pkgs" ]; then
		(cd "$dir" && CGO_ENABLED=0 GOWORK=off build $pkgs) || { echo "verify: CGO_ENABLED=0 build of $mod failed"; fail=1; }
	fi
done
exit $fail
