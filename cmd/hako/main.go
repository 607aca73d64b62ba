// Command hako is the OCI runtime, with runc's command line: containerd,
// Docker and podman drive it as they drive runc.
//
// The Go runtime sizes GOMAXPROCS from the cgroup CPU quota: it keeps the
// quota files open and re-reads them while the process lives. hako lives
// milliseconds and its init is inside the very cgroup being limited, so
// both are turned off. (Go still reads /proc/self/cgroup and mountinfo once
// at start-up, even so: that is the one mountinfo read per process.)
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0
package main

import (
	"os"
	"runtime"
	"time"

	_ "hako.dev/nsenter/preinit" // enters the container's namespaces before Go starts
	"hako.dev/runtime/container"
	"hako.dev/runtime/timerslack"
)

// The container's init is this binary re-executed with container.InitEnv
// set. It must stay on the main thread from the start (see container.Init),
// and skip building the CLI at all: it is on every container's start path.
//
// The CLI lives milliseconds, most of them waiting for the container's
// processes, while the runtime's monitor thread naps 20 µs at a time: a
// millisecond of timer slack on that thread (its children get the CLI's
// own: timerslack.Spawn) halves the CLI's context switches. Best effort:
// without CAP_SYS_NICE it keeps the default.
func init() {
	if os.Getenv(container.InitEnv) != "" {
		runtime.LockOSThread()
		return
	}
	_ = timerslack.RelaxMonitor(time.Millisecond) // best effort: only slower without
}

func main() {
	if os.Getenv(container.InitEnv) != "" {
		container.Init()
		return
	}
	os.Exit(execute(os.Args[1:]))
}
