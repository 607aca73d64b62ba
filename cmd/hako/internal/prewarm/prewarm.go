// Package prewarm has, for the commands that start a container's process
// (create, run, exec), the os package's one-time pidfd check made on a
// thread of its own while hako starts: before its first process start,
// the os package checks that pidfds work, by cloning a child and reaping
// it (~0.1-0.2 ms). That check does not depend on the command line, so
// this package's init runs it on a second thread while the rest of the
// program's packages initialize and cobra parses the flags; the launch
// finds it done. It costs a thread and a little CPU that a short command
// on a multi-core host has spare; on a single core it only moves the
// same work earlier.
//
// encoding/json's tables were built here too, when encoding/json built
// those of every type a config can hold at a process's first decode
// (~0.5 ms). Built with GOEXPERIMENT=jsonv2 (the Makefile), it builds
// those of the types the file holds, as it meets them: warming them on
// another thread then only competed with the command's own decode (run
// 0.3-0.6 ms slower with it, interleaved; docs/performance.md).
package prewarm

import "os"

// initEnv marks this binary re-executed as a container's Go init
// (container.InitEnv; this package initializes before that one): it runs
// in the container's namespaces and cgroup, where nothing is to be
// warmed, and as an exec's init its argv is "hako exec".
const initEnv = "_HAKO_INIT"

func init() {
	if os.Getenv(initEnv) != "" || !startsProcess(os.Args[1:]) {
		return
	}
	go func() {
		// FindProcess runs the same check as the first process start.
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Release()
		}
	}()
}

// startsProcess tells whether the command in args starts a container's
// process: create, run, exec. The first argument naming one of them is
// taken for the command: global flags' values before it are paths and
// formats, and a wrong guess costs only the spare thread's time.
func startsProcess(args []string) bool {
	for _, a := range args {
		switch a {
		case "create", "run", "exec":
			return true
		}
	}
	return false
}
