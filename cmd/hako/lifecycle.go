package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"hako.dev/runtime/container"
)

type createFlags struct {
	bundle        string
	pidFile       string
	consoleSocket string
	noPivot       bool
	noNewKeyring  bool
	preserveFDs   int
	pidfdSocket   string
}

func (c *createFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&c.bundle, "bundle", "b", ".", "bundle directory (holding config.json)")
	f.StringVar(&c.pidFile, "pid-file", "", "write the container's init pid to this file")
	f.StringVar(&c.consoleSocket, "console-socket", "", "unix socket to send the pty master to, when the config asks for a terminal")
	f.BoolVar(&c.noPivot, "no-pivot", false, "switch root with MS_MOVE+chroot instead of pivot_root (roots on ramfs)")
	f.BoolVar(&c.noNewKeyring, "no-new-keyring", false, "keep the caller's session keyring instead of a new one")
	f.IntVar(&c.preserveFDs, "preserve-fds", 0, "pass this many more descriptors (from 3, after $LISTEN_FDS) to the container")
	f.StringVar(&c.pidfdSocket, "pidfd-socket", "", "unix socket to send a pidfd of the container's init to")
}

func (c *createFlags) opts(g *globals) container.CreateOpts {
	o := container.CreateOpts{
		Bundle: c.bundle, NoPivot: c.noPivot, NoNewKeyring: c.noNewKeyring, ConsoleSocket: c.consoleSocket,
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Logger: g.log, PreserveFDs: c.preserveFDs,
		PidfdSocket: c.pidfdSocket, NotifySocket: os.Getenv("NOTIFY_SOCKET"), SeccompCache: seccompCache(),
	}
	// Socket activation (sd_listen_fds(3)): descriptors systemd gave us go
	// to the container first, with LISTEN_FDS, and LISTEN_PID naming its
	// pid 1.
	if n, err := strconv.Atoi(os.Getenv("LISTEN_FDS")); err == nil && n > 0 && os.Getenv("LISTEN_PID") == strconv.Itoa(os.Getpid()) {
		o.PreserveFDs += n
		o.ExtraEnv = []string{"LISTEN_FDS=" + strconv.Itoa(n), "LISTEN_PID=1"}
	}
	return o
}

// seccompCache is where hako keeps compiled seccomp profiles between
// containers (seccomp.Cache; every container of an engine brings the same
// profile, which libseccomp takes milliseconds to compile):
// $HAKO_SECCOMP_CACHE if set ("off": nowhere), else /run/hako-cache/seccomp
// for the host's root and $XDG_RUNTIME_DIR/hako-cache/seccomp for other
// users (root of a user namespace included: it cannot write /run). Not
// under --root, which holds the containers' state and nothing else.
func seccompCache() string {
	switch dir := os.Getenv("HAKO_SECCOMP_CACHE"); {
	case dir == "off":
		return ""
	case dir != "":
		return dir
	case os.Geteuid() == 0 && initialUserNS():
		return "/run/hako-cache/seccomp"
	case os.Getenv("XDG_RUNTIME_DIR") != "":
		return filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "hako-cache", "seccomp")
	}
	return ""
}

// initialUserNS tells whether this process is in the host's user
// namespace, which maps every id to itself.
func initialUserNS() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	return err == nil && strings.Join(strings.Fields(string(b)), " ") == "0 0 4294967295"
}

// writePidFile writes atomically: clients poll for this file.
func writePidFile(path string, pid int) error {
	if path == "" {
		return nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(pid)), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func createCmd(g *globals) *cobra.Command {
	var cf createFlags
	cmd := &cobra.Command{
		Use:   "create [flags] <container-id>",
		Short: "create a container; its program waits for start",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id := args[0]
			c, err := container.Create(g.root, id, cf.opts(g))
			if err != nil {
				return fmt.Errorf("create %s: %w", id, err)
			}
			if err := writePidFile(cf.pidFile, c.Pid()); err != nil {
				c.Delete(true)
				return fmt.Errorf("create %s: write pid file: %w", id, err)
			}
			return nil
		},
	}
	cf.add(cmd)
	return cmd
}

func runCmd(g *globals) *cobra.Command {
	var cf createFlags
	var ro container.RunOpts
	cmd := &cobra.Command{
		Use:   "run [flags] <container-id>",
		Short: "create, start and wait for a container in the foreground, then delete it",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id := args[0]
			ro.Started = func(pid int) error { return writePidFile(cf.pidFile, pid) }
			ro.Start.NotifySocket = os.Getenv("NOTIFY_SOCKET")
			code, err := container.RunWith(g.root, id, cf.opts(g), ro)
			if err != nil {
				return fmt.Errorf("run %s: %w", id, err)
			}
			if ro.Detach {
				return nil
			}
			return exitError{code}
		},
	}
	cf.add(cmd)
	f := cmd.Flags()
	f.BoolVarP(&ro.Detach, "detach", "d", false, "start the container and return, leaving it running")
	f.BoolVar(&ro.Keep, "keep", false, "do not delete the container once it has stopped")
	f.BoolVar(&ro.NoSubreaper, "no-subreaper", false, "leave the container's orphans to the host's init instead of reaping them")
	return cmd
}

func startCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "start <container-id>",
		Short: "start the program of a created container",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id := args[0]
			c, err := container.Load(g.root, id)
			var ready <-chan error
			if err == nil {
				// Under systemd (Type=notify), start returns once the
				// container said READY=1, passed on with its MAINPID.
				ready, err = c.StartWith(container.StartOpts{NotifySocket: os.Getenv("NOTIFY_SOCKET")})
			}
			if err == nil && ready != nil {
				if err = <-ready; err != nil {
					err = fmt.Errorf("notify: %w", err)
				}
			}
			if err != nil {
				return fmt.Errorf("start %s: %w", id, err)
			}
			return nil
		},
	}
}

func stateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "state <container-id>",
		Short: "print a container's state as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id := args[0]
			c, err := container.Load(g.root, id)
			if err != nil {
				return fmt.Errorf("state %s: %w", id, err)
			}
			return printJSON(c.State())
		},
	}
}

func killCmd(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "kill <container-id> [signal]",
		Short: "send a signal (default SIGTERM) to a container's init",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			id, sigArg := args[0], "SIGTERM"
			if len(args) == 2 {
				sigArg = args[1]
			}
			sig, err := container.ParseSignal(sigArg)
			if err != nil {
				return fmt.Errorf("kill %s: %w", id, err)
			}
			c, err := container.Load(g.root, id)
			if err == nil {
				err = c.Kill(sig, all)
			}
			if err != nil {
				return fmt.Errorf("kill %s: %w", id, err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "signal every process of the container (its cgroup), not just its init")
	return cmd
}

// freezeCmd is pause and resume.
func freezeCmd(g *globals, name, short string, op func(*container.Container) error) *cobra.Command {
	return &cobra.Command{
		Use:   name + " <container-id>",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id := args[0]
			c, err := container.Load(g.root, id)
			if err == nil {
				err = op(c)
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", name, id, err)
			}
			return nil
		},
	}
}

func deleteCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete [--force] <container-id>",
		Short: "delete a stopped container (any container with --force)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id := args[0]
			c, err := container.Load(g.root, id)
			if err == nil {
				err = c.Delete(force)
			} else if force && errors.Is(err, container.ErrNotExist) {
				// runc's --force: nothing to delete is not an error.
				err = container.RemoveStale(g.root, id)
			}
			var w *container.HookWarning
			if errors.As(err, &w) {
				g.log.Warn(fmt.Sprintf("delete %s: %v", id, w))
				return nil
			}
			if err != nil {
				return fmt.Errorf("delete %s: %w", id, err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill the container first if it is running")
	return cmd
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
