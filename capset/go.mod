module hako.dev/capset

go 1.26.0

require (
	github.com/moby/sys/capability v0.5.0
	github.com/opencontainers/runtime-spec v1.3.0
	golang.org/x/sys v0.50.0
)
