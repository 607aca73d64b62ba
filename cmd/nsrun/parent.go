package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"hako.dev/cmd/internal/cli"
	"hako.dev/nsenter"
	"hako.dev/runtime/sigrelay"
)

type options struct {
	newKinds  []string
	joins     []string
	target    int
	all       bool
	targetNS  map[nsenter.Kind]*bool
	mapRoot   bool
	uidMaps   []string
	gidMaps   []string
	setgroups string
	fork      bool
	mountProc bool
	helpers   bool
}

func execute(args []string) int {
	o := &options{targetNS: map[nsenter.Kind]*bool{}}
	cmd := &cobra.Command{
		Use: "nsrun [flags] -- CMD [ARGS...]",
		Example: `  # a shell that is pid 1 of new pid, mount, uts and ipc namespaces, with its own /proc:
  nsrun --new pid,mnt,uts,ipc --fork --mount-proc -- sh
  # a shell in every namespace of process 1234:
  nsrun --target 1234 --all -- sh
  # root of a new user namespace, as an unprivileged user:
  nsrun --new user,mnt --map-root -- id
  # composing with the other step tools:
  nsrun --new pid,mnt,uts,ipc --fork -- cgctl exec /demo -- rootfs run --config demo/config.json -- /bin/sh`,
		Short: "run a command in new or existing namespaces",
		Long: `nsrun creates namespaces (--new), joins existing ones (--join, --target),
writes user namespace maps, and then runs CMD inside, waiting for it and
exiting with its status (128+N if killed by signal N).`,
		Args:          cobra.MinimumNArgs(1),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE: func(_ *cobra.Command, argv []string) error {
			return run(o, argv)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.newKinds, "new", nil, "namespaces to create: mnt,uts,ipc,net,pid,user,cgroup,time")
	f.StringArrayVar(&o.joins, "join", nil, "namespace to join, TYPE=PATH (repeatable)")
	f.IntVarP(&o.target, "target", "t", 0, "join namespaces of this pid (with --all or per-kind flags)")
	f.BoolVarP(&o.all, "all", "a", false, "with --target: every namespace of the target that differs from ours")
	for _, k := range nsenter.Kinds {
		o.targetNS[k] = f.Bool(string(k), false, "with --target: join its "+string(k)+" namespace")
	}
	f.BoolVarP(&o.mapRoot, "map-root", "r", false, "with --new user: map root in the namespace to our uid and gid")
	f.StringArrayVar(&o.uidMaps, "uid-map", nil, "uid map range INSIDE:OUTSIDE:LEN (repeatable)")
	f.StringArrayVar(&o.gidMaps, "gid-map", nil, "gid map range INSIDE:OUTSIDE:LEN (repeatable)")
	f.StringVar(&o.setgroups, "setgroups", "", "allow or deny setgroups(2) in the new user namespace")
	f.BoolVar(&o.helpers, "map-helpers", false, "write maps with newuidmap/newgidmap (unprivileged, several ranges)")
	f.BoolVarP(&o.fork, "fork", "f", false, "run CMD in a forked child even without a new pid namespace (a pid or time namespace always forks)")
	f.BoolVar(&o.mountProc, "mount-proc", false, "mount a new /proc (needs --new mnt; makes / private first)")
	cli.MaybeGenMan(cmd)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		var ee exitStatus
		if errors.As(err, &ee) {
			return int(ee)
		}
		fmt.Fprintf(os.Stderr, "nsrun: %v\n", err)
		return 1
	}
	return 0
}

type exitStatus int

func (e exitStatus) Error() string { return "exit status " + strconv.Itoa(int(e)) }

func (o *options) request() (*nsenter.Request, error) {
	r := &nsenter.Request{}
	for _, n := range o.newKinds {
		k, err := nsenter.ParseKind(n)
		if err != nil {
			return nil, fmt.Errorf("--new: %w", err)
		}
		r.New = append(r.New, k)
	}
	for _, j := range o.joins {
		t, p, ok := strings.Cut(j, "=")
		if !ok || p == "" {
			return nil, fmt.Errorf("--join %q: want TYPE=PATH", j)
		}
		k, err := nsenter.ParseKind(t)
		if err != nil {
			return nil, fmt.Errorf("--join: %w", err)
		}
		r.Join = append(r.Join, nsenter.Join{Kind: k, Path: p})
	}
	if o.target != 0 {
		picked := false
		for _, k := range nsenter.Kinds {
			if *o.targetNS[k] {
				picked = true
				r.Join = append(r.Join, nsenter.Join{Kind: k, Path: fmt.Sprintf("/proc/%d/ns/%s", o.target, k)})
			}
		}
		switch {
		case o.all && picked:
			return nil, errors.New("--all and per-kind flags are exclusive")
		case o.all:
			all, err := nsenter.JoinAll(o.target)
			if err != nil {
				return nil, err
			}
			r.Join = append(r.Join, all...)
		case !picked:
			return nil, errors.New("--target needs --all or at least one of --mnt, --net, ...")
		}
	} else if o.all {
		return nil, errors.New("--all needs --target")
	}
	if o.mapRoot {
		if len(o.uidMaps) > 0 || len(o.gidMaps) > 0 {
			return nil, errors.New("--map-root and --uid-map/--gid-map are exclusive")
		}
		r.UIDMap = []nsenter.IDMap{{Inside: 0, Outside: uint32(os.Geteuid()), Size: 1}}
		r.GIDMap = []nsenter.IDMap{{Inside: 0, Outside: uint32(os.Getegid()), Size: 1}}
		// An unprivileged writer of a gid map must deny setgroups first.
		r.DenySetgroups = os.Geteuid() != 0
	}
	for _, spec := range [][2]any{{&o.uidMaps, &r.UIDMap}, {&o.gidMaps, &r.GIDMap}} {
		for _, s := range *spec[0].(*[]string) {
			m, err := parseMap(s)
			if err != nil {
				return nil, err
			}
			*spec[1].(*[]nsenter.IDMap) = append(*spec[1].(*[]nsenter.IDMap), m)
		}
	}
	switch o.setgroups {
	case "":
	case "deny":
		r.DenySetgroups = true
	case "allow":
		r.DenySetgroups = false
	default:
		return nil, fmt.Errorf("--setgroups %q: want allow or deny", o.setgroups)
	}
	r.UseHelpers = o.helpers
	if o.mountProc && !containsKind(r.New, nsenter.Mount) {
		return nil, errors.New("--mount-proc needs --new mnt (it would mount over the host's /proc)")
	}
	r.Fork, r.MountProc = o.fork, o.mountProc
	return r, r.Validate()
}

func parseMap(s string) (nsenter.IDMap, error) {
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return nsenter.IDMap{}, fmt.Errorf("map %q: want INSIDE:OUTSIDE:LEN", s)
	}
	var v [3]uint32
	for i, x := range f {
		n, err := strconv.ParseUint(x, 10, 32)
		if err != nil {
			return nsenter.IDMap{}, fmt.Errorf("map %q: %q is not a number", s, x)
		}
		v[i] = uint32(n)
	}
	return nsenter.IDMap{Inside: v[0], Outside: v[1], Size: v[2]}, nil
}

func containsKind(ks []nsenter.Kind, k nsenter.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// run re-executes nsrun through the pre-init stage, which enters the
// namespaces and executes CMD itself; we wait for it and pass signals on.
func run(o *options, argv []string) error {
	r, err := o.request()
	if err != nil {
		return err
	}
	r.Exec = argv
	if r.CanExec() && os.Getenv("NSRUN_EXPERIMENT") != "" {
		// The C stage does it all in this very process, as nsenter(1)
		// would: no Go parent waits.
		return nsenter.Exec(r, "nsrun")
	}
	cmd := &exec.Cmd{
		Path:   "/proc/self/exe",
		Args:   []string{"nsrun"},
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
	}
	// Caught from before the start so none is lost.
	relay, err := sigrelay.Catch(sigrelay.Forwardable(), 32)
	if err != nil {
		return err
	}
	defer relay.Stop()
	pid, err := nsenter.Start(cmd, r)
	if err != nil {
		return err
	}
	go func() {
		for s := range relay.C {
			unix.Kill(pid, s)
		}
	}()
	return exitStatus(waitStatus(pid))
}

// waitStatus waits for a child and returns its status as a shell does.
func waitStatus(pid int) int {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 255
		}
		break
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
