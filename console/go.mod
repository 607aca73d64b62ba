module hako.dev/console

go 1.26.0

require (
	github.com/containerd/console v1.0.5
	golang.org/x/sys v0.50.0
)
