// Command rootfs builds a container's root filesystem from an OCI config
// and runs a command in it, or prints what it would do:
//
//	nsrun --new mnt,pid --fork --mount-proc -- rootfs run --config bundle/config.json -- /bin/sh
//	rootfs plan --config bundle/config.json
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"hako.dev/cgctl"
	"hako.dev/cmd/internal/cli"
	"hako.dev/rootfs"
	"hako.dev/runtime/container"
)

// Mounts and pivot_root act on the process's mount namespace, but the
// working directory and root are per thread until execve: one thread.
func init() { runtime.LockOSThread() }

func main() {
	r := root()
	cli.MaybeGenMan(r)
	if err := r.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "rootfs: %v\n", err)
		os.Exit(1)
	}
}

type opts struct {
	config, bundle string
	noPivot        bool
}

func root() *cobra.Command {
	var o opts
	r := &cobra.Command{
		Use:   "rootfs",
		Short: "build a container's root filesystem from an OCI config",
		Long: `rootfs performs what an OCI config's root, mounts, linux.devices,
linux.maskedPaths, linux.readonlyPaths and linux.rootfsPropagation ask for,
then pivots into the new root and execs a command there (run), or prints
the steps as shell commands (plan).`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	flags := func(c *cobra.Command) {
		c.Flags().StringVar(&o.config, "config", "config.json", "the OCI config")
		c.Flags().StringVar(&o.bundle, "bundle", "", "directory relative paths are taken from (default: the config's)")
		c.Flags().BoolVar(&o.noPivot, "no-pivot", false, "switch root with MS_MOVE and chroot, for roots on ramfs or the initramfs")
	}
	run := &cobra.Command{
		Use:   "run --config FILE [--bundle DIR] [--no-pivot] -- CMD [ARGS...]",
		Short: "build the root filesystem in this (private) mount namespace and exec CMD in it",
		Example: `  # a shell in the busybox bundle's root, in new mount and pid namespaces:
  nsrun --new mnt,pid,uts,ipc --fork -- rootfs run --config demo/config.json -- /bin/sh
  # the same with util-linux:
  unshare -m -p -u -i -f rootfs run --config demo/config.json -- /bin/sh`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, argv []string) error { return runIn(&o, argv) },
	}
	plan := &cobra.Command{
		Use:   "plan --config FILE [--bundle DIR] [--no-pivot]",
		Short: "print the steps run would take, as shell commands",
		Example: `  rootfs plan --config demo/config.json
  rootfs plan --config demo/config.json | grep pivot_root`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			c, err := load(&o)
			if err != nil {
				return err
			}
			ops, err := rootfs.Plan(c)
			if err != nil {
				return err
			}
			w := bufio.NewWriter(os.Stdout)
			fmt.Fprintln(w, "# every target is created inside the rootfs first; hako resolves it there")
			fmt.Fprintln(w, "# (openat2 RESOLVE_IN_ROOT) and mounts onto the opened fd, which these")
			fmt.Fprintln(w, "# commands, following symlinks, cannot do. Run them after: unshare -m")
			for _, l := range rootfs.Shell(ops) {
				fmt.Fprintln(w, l)
			}
			return w.Flush()
		},
	}
	flags(run)
	flags(plan)
	r.AddCommand(run, plan)
	return r
}

// load reads the config and fills in what rootfs.Config needs besides it.
func load(o *opts) (rootfs.Config, error) {
	b, err := os.ReadFile(o.config)
	if err != nil {
		return rootfs.Config{}, err
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		return rootfs.Config{}, fmt.Errorf("parse %s: %w", o.config, err)
	}
	if spec.Root == nil || spec.Root.Path == "" {
		return rootfs.Config{}, fmt.Errorf("%s: no root.path", o.config)
	}
	bundle := o.bundle
	if bundle == "" {
		bundle = filepath.Dir(o.config)
	}
	if bundle, err = filepath.Abs(bundle); err != nil {
		return rootfs.Config{}, err
	}
	path := spec.Root.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(bundle, path)
	}
	return rootfs.Config{Spec: &spec, Rootfs: path, Bundle: bundle, NoPivot: o.noPivot, Cgroups: ownCgroups()}, nil
}

func runIn(o *opts, argv []string) error {
	if err := checkPrivate(); err != nil {
		return err
	}
	c, err := load(o)
	if err != nil {
		return err
	}
	if err := rootfs.Prepare(c); err != nil {
		return err
	}
	if err := rootfs.Finish(c); err != nil {
		return err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	return syscall.Exec(path, argv, os.Environ())
}

// checkPrivate refuses to run in the mount namespace of our parent or of
// pid 1: Prepare changes the propagation of "/" and pivots the root, which
// in a shared namespace would act on the host's.
func checkPrivate() error {
	self, err := os.Readlink("/proc/self/ns/mnt")
	if err != nil {
		return fmt.Errorf("read own mount namespace: %w", err)
	}
	others := map[string]int{}
	if pp := os.Getppid(); pp > 0 {
		others["parent"] = pp
	}
	if os.Getpid() != 1 {
		others["pid 1"] = 1
	}
	for who, pid := range others {
		ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/mnt")
		if err == nil && ns == self {
			return fmt.Errorf("run: this process shares its mount namespace with its %s (pid %d): "+
				"run it in a private one, e.g. `unshare -m rootfs run ...` or `nsrun --new mnt -- rootfs run ...`", who, pid)
		}
	}
	return nil
}

// ownCgroups describes this process's cgroup (the one `cgctl exec` put it
// in) for the config's "cgroup" mounts, or nothing if it cannot be read:
// Plan then mounts a cgroup2 hierarchy.
func ownCgroups() []rootfs.CgroupMount {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	path := ""
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if p, ok := strings.CutPrefix(l, "0::"); ok || path == "" {
			if parts := strings.SplitN(l, ":", 3); len(parts) == 3 {
				path = parts[2]
			}
			if ok {
				path = p
				break
			}
		}
	}
	m, err := cgctl.New(cgctl.Config{Path: path})
	if err != nil {
		return nil
	}
	return container.CgroupMounts(m)
}
