// Package prewarm builds encoding/json's tables for the OCI config's types
// on a thread of its own while hako starts, for the commands that decode a
// config.
//
// A process's first decode into specs.Spec walks, by reflection, every
// type the config can hold (~60, whatever the file names): about half a
// millisecond with Go 1.26, a quarter with Go 1.27's encoding/json, the
// largest single piece of a `hako run` after the kernel's. Its input
// plays no part, so it need not wait for the command line to be parsed:
// this package's init starts it on a second thread while the rest of the
// program's packages initialize and cobra parses the flags, and the
// command's own decode then finds the tables built. It costs a thread and
// some CPU that a short command on a multi-core host has spare; on a
// single core it only moves the same work earlier.
package prewarm

import (
	"encoding/json"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var done chan struct{}

func init() {
	v := target(os.Args[1:])
	if v == nil {
		return
	}
	done = make(chan struct{})
	go func() {
		defer close(done)
		// An empty object is enough: the tables are per type, built on
		// the type's first use whatever the input holds.
		_ = json.Unmarshal([]byte("{}"), v)
	}()
}

// target is what the command in args decodes: create and run decode the
// whole config, exec the process part of the one state.json keeps. nil
// for the other commands. The first argument naming one of them is taken
// for the command: global flags' values before it are paths and formats,
// and a wrong guess costs only the spare thread's time.
func target(args []string) any {
	for _, a := range args {
		switch a {
		case "create", "run":
			return new(specs.Spec)
		case "exec":
			return new(specs.Process)
		}
	}
	return nil
}

// Wait returns once the tables are built (at once if no command asked
// for them). A command decodes only after it: a decode that started
// while the tables were half-built would build them all again itself.
func Wait() {
	if done != nil {
		<-done
	}
}
