package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"hako.dev/runtime/container"
)

type execFlags struct {
	process, consoleSocket, pidFile, cwd, user  string
	processLabel, apparmor, cgroup, pidfdSocket string
	detach, tty, noNewPrivs, ignorePaused       bool
	env, caps                                   []string
	preserveFDs                                 int
}

func execCmd(g *globals) *cobra.Command {
	var f execFlags
	cmd := &cobra.Command{
		Use:   "exec [flags] <container-id> [COMMAND [ARG...]]",
		Short: "run a process in a running container",
		Long: `exec runs a process in a running container: the one described by --process,
or COMMAND with the container's own process settings (env, user, cwd,
capabilities, rlimits, seccomp) changed by the flags.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id := args[0]
			ctr, err := container.Load(g.root, id)
			if err != nil {
				return fmt.Errorf("exec %s: %w", id, err)
			}
			p, err := f.processFor(c, ctr, args[1:])
			if err != nil {
				return fmt.Errorf("exec %s: %w", id, err)
			}
			_, code, err := ctr.Exec(container.ExecOpts{
				Process: p, ConsoleSocket: f.consoleSocket, Detach: f.detach,
				Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Logger: g.log,
				PreserveFDs: f.preserveFDs, SubCgroup: f.cgroup, IgnorePaused: f.ignorePaused, PidfdSocket: f.pidfdSocket,
				SeccompCache: seccompCache(),
				Started: func(pid int) error {
					if err := writePidFile(f.pidFile, pid); err != nil {
						return fmt.Errorf("write pid file: %w", err)
					}
					return nil
				},
			})
			if err != nil {
				return fmt.Errorf("exec %s: %w", id, err)
			}
			if f.detach {
				return nil
			}
			return exitError{code}
		},
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false) // flags after the id belong to COMMAND
	fl.StringVarP(&f.process, "process", "p", "", "JSON file with the process to run (config.json's process)")
	fl.StringVar(&f.consoleSocket, "console-socket", "", "unix socket to send the pty master to, with --tty")
	fl.StringVar(&f.pidFile, "pid-file", "", "write the process's pid to this file")
	fl.BoolVarP(&f.detach, "detach", "d", false, "return once the process runs")
	fl.BoolVarP(&f.tty, "tty", "t", false, "give the process a terminal")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable NAME=VALUE (repeatable)")
	fl.StringVar(&f.cwd, "cwd", "", "working directory inside the container")
	fl.StringVarP(&f.user, "user", "u", "", "UID[:GID] to run as")
	fl.UintSliceVarP(new([]uint), "additional-gids", "g", nil, "supplementary group ids")
	fl.StringArrayVar(&f.caps, "cap", nil, "add a capability (repeatable)")
	fl.BoolVar(&f.noNewPrivs, "no-new-privs", false, "set no_new_privs")
	fl.StringVar(&f.processLabel, "process-label", "", "SELinux label of the process (refused where SELinux is off)")
	fl.StringVar(&f.apparmor, "apparmor", "", "AppArmor profile of the process (refused where AppArmor is off)")
	fl.IntVar(&f.preserveFDs, "preserve-fds", 0, "pass this many more descriptors (from 3) to the process")
	fl.StringVar(&f.cgroup, "cgroup", "", "run the process in this existing cgroup below the container's (a relative path)")
	fl.BoolVar(&f.ignorePaused, "ignore-paused", false, "allow an exec into a paused container (the process starts frozen)")
	fl.StringVar(&f.pidfdSocket, "pidfd-socket", "", "unix socket to send a pidfd of the process to")
	return cmd
}

// processFor builds the process: --process as is, or the container's own
// process with the command line and flags applied (runc's rule).
func (f *execFlags) processFor(c *cobra.Command, ctr *container.Container, argv []string) (*specs.Process, error) {
	if f.process != "" {
		if len(argv) > 0 {
			return nil, errors.New("--process and a command are exclusive")
		}
		b, err := os.ReadFile(f.process)
		if err != nil {
			return nil, err
		}
		var p specs.Process
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("parse %s: %w", f.process, err)
		}
		return &p, nil
	}
	if len(argv) == 0 {
		return nil, errors.New("no command given (or --process)")
	}
	proc := ctr.Process()
	if proc == nil {
		return nil, errors.New("the container's state has no config")
	}
	p := *proc // a copy: slices below are replaced, not appended to in place
	p.Args = argv
	p.Terminal = f.tty
	p.ConsoleSize = nil
	p.Env = mergeEnv(p.Env, f.env)
	if f.cwd != "" {
		p.Cwd = f.cwd
	}
	if f.user != "" {
		u, g, hasG := strings.Cut(f.user, ":")
		uid, err := strconv.ParseUint(u, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--user %q: want numeric UID[:GID]", f.user)
		}
		p.User.UID = uint32(uid) // the config's gid stays unless given (runc's rule)
		if hasG {
			gid, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return nil, fmt.Errorf("--user %q: want numeric UID[:GID]", f.user)
			}
			p.User.GID = uint32(gid)
		}
	}
	if gids, _ := c.Flags().GetUintSlice("additional-gids"); len(gids) > 0 {
		// Added to the config's, as runc does.
		p.User.AdditionalGids = append([]uint32(nil), p.User.AdditionalGids...)
		for _, g := range gids {
			p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
		}
	}
	if len(f.caps) > 0 && p.Capabilities != nil {
		caps := *p.Capabilities
		for _, cp := range f.caps {
			caps.Bounding = append(append([]string(nil), caps.Bounding...), cp)
			caps.Effective = append(append([]string(nil), caps.Effective...), cp)
			caps.Permitted = append(append([]string(nil), caps.Permitted...), cp)
		}
		p.Capabilities = &caps
	}
	if f.noNewPrivs {
		p.NoNewPrivileges = true
	}
	if f.processLabel != "" {
		p.SelinuxLabel = f.processLabel
	}
	if f.apparmor != "" {
		p.ApparmorProfile = f.apparmor
	}
	return &p, nil
}

// mergeEnv is base with each NAME=VALUE of extra replacing base's NAME
// (or added): a duplicate would make getenv(3) and hako's PATH lookup
// disagree about which value wins.
func mergeEnv(base, extra []string) []string {
	out := append([]string(nil), base...)
	for _, kv := range extra {
		name, _, _ := strings.Cut(kv, "=")
		replaced := false
		for i, old := range out {
			if n, _, _ := strings.Cut(old, "="); n == name {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}
