// Command hako is the OCI runtime, with runc's command line: containerd,
// Docker and podman drive it as they drive runc.
package main

import (
	"os"
	"runtime"

	"hako.dev/runtime/container"
)

// The container's init is this binary re-executed with container.InitEnv
// set. It must stay on the main thread from the start (see container.Init),
// and skip building the CLI at all: it is on every container's start path.
func init() {
	if os.Getenv(container.InitEnv) != "" {
		runtime.LockOSThread()
	}
}

func main() {
	if os.Getenv(container.InitEnv) != "" {
		container.Init()
		return
	}
	os.Exit(execute(os.Args[1:]))
}
