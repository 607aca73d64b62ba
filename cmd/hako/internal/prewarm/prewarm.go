// Package prewarm builds encoding/json's tables for the OCI config's types
// on a thread of its own while hako starts, for the commands that decode a
// config (and has the os package check that pidfds work, which it does
// before its first process start).
//
// A process's first decode of a config builds, by reflection, the tables
// of the types it meets (Go 1.26's encoding/json: of every type the
// config can hold, ~0.5 ms; Go 1.27's: of those the file holds), the
// largest single piece of a `hako run` after the kernel's. The values
// play no part, so it need not wait for the command line: this package's
// init decodes a config holding every object a Linux config can have
// (warm.json) on a second thread, while the rest of the program's
// packages initialize and cobra parses the flags, then encodes it (the
// tables state.json's encoding takes). The command's own decode finds
// the tables built, or being built: it waits for a type's encoder being
// built, and at worst lists a struct's fields again (Go 1.26), or waits
// for all of a type's tables (Go 1.27). It costs a thread and some CPU
// that a short command on a multi-core host has spare; on a single core
// it only moves the same work earlier.
package prewarm

import (
	_ "embed"
	"encoding/json"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// warmJSON is a config with every pointer of specs.Spec set and every
// list and map holding one element, but other operating systems' parts
// (TestWarmJSON writes it: go generate).
//
//go:generate go test -run TestWarmJSON -update
//go:embed warm.json
var warmJSON []byte

// initEnv marks this binary re-executed as a container's Go init
// (container.InitEnv; this package initializes before that one): it runs
// in the container's namespaces and cgroup, where nothing is to be
// warmed, and as an exec's init its argv is "hako exec".
const initEnv = "_HAKO_INIT"

func init() {
	if os.Getenv(initEnv) != "" {
		return
	}
	v := target(os.Args[1:])
	if v == nil {
		return
	}
	go func() {
		// What the command decodes first, first.
		_ = json.Unmarshal(warmJSON, v)
		// These commands start a process, and the os package checks once
		// per process, before its first start, that pidfds work: a child
		// cloned and reaped (~0.1 ms). FindProcess runs the same check.
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Release()
		}
		_, _ = json.Marshal(v)
	}()
}

// processPart is the part of a config exec decodes (of the one
// state.json keeps): its process.
type processPart struct {
	Process *specs.Process `json:"process"`
}

// target is what the command in args decodes warm.json into: create and
// run decode a whole config, exec its process part; nil for the other
// commands. The first argument naming one of them is taken for the
// command: global flags' values before it are paths and formats, and a
// wrong guess costs only the spare thread's time.
func target(args []string) any {
	for _, a := range args {
		switch a {
		case "create", "run":
			return new(specs.Spec)
		case "exec":
			return new(processPart)
		}
	}
	return nil
}
