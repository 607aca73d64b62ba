// Command capset runs a command with reduced privileges, or shows a
// process's capabilities:
//
//	capset --drop all --keep net_bind_service --user 1000:1000 -- ./server
//	capset show [PID]
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/sys/capability"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"hako.dev/capset"
	"hako.dev/cmd/internal/cli"
)

// Capabilities and credentials are per thread: main's thread sets them and
// execs, so it is locked from the start.
func init() { runtime.LockOSThread() }

func main() {
	r := root()
	cli.MaybeGenMan(r)
	if err := r.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "capset: %v\n", err)
		os.Exit(1)
	}
}

type opts struct {
	drop, keep, bounding, ambient []string
	user                          string
	groups                        []string
	noNewPrivs                    bool
	rlimits                       []string
}

func root() *cobra.Command {
	var o opts
	r := &cobra.Command{
		Use: "capset [flags] -- CMD [ARGS...]",
		Example: `  # a web server that may bind low ports and nothing else, as uid 1000:
  capset --drop all --keep net_bind_service --user 1000:1000 --no-new-privs -- ./server
  capset --rlimit NOFILE=1024:2048 -- sh -c 'ulimit -n'
  capset show $$`,
		Short: "run CMD with the given capabilities, user and limits",
		Long: `capset sets the capability sets, credentials, no_new_privs and rlimits of
its own process, in the order that keeps each step allowed, then execs CMD.
Capability names take any form: CAP_NET_RAW, net_raw.`,
		Args:          cobra.MinimumNArgs(1),
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE:          func(_ *cobra.Command, a []string) error { return run(&o, a) },
	}
	f := r.Flags()
	f.StringSliceVar(&o.drop, "drop", nil, "capabilities to drop from every set, or all")
	f.StringSliceVar(&o.keep, "keep", nil, "capabilities to keep (with --drop all); with a non-root --user they are made ambient too, or execve would drop them")
	f.StringSliceVar(&o.bounding, "bounding", nil, "the exact bounding set")
	f.StringSliceVar(&o.ambient, "ambient", nil, "capabilities to raise as ambient (they survive execve as non-root)")
	f.StringVar(&o.user, "user", "", "UID[:GID] to become")
	f.StringSliceVar(&o.groups, "groups", nil, "supplementary groups (none by default with --user)")
	f.BoolVar(&o.noNewPrivs, "no-new-privs", false, "set no_new_privs: execve never grants privileges again")
	f.StringArrayVar(&o.rlimits, "rlimit", nil, "resource limit NAME=SOFT[:HARD], e.g. NOFILE=1024:2048 (repeatable)")
	r.AddCommand(&cobra.Command{
		Use: "show [PID]", Short: "name the capability sets of a process (default: this one)", Args: cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, a []string) error {
			pid := 0
			if len(a) == 1 {
				p, err := strconv.Atoi(a[0])
				if err != nil || p <= 0 {
					return fmt.Errorf("show: bad pid %q", a[0])
				}
				pid = p
			}
			sets, err := capset.Show(pid)
			if err != nil {
				return err
			}
			for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
				fmt.Printf("%s\t%s\n", k, strings.Join(sets[k], ","))
			}
			return nil
		},
	})
	return r
}

func parseCaps(flag string, names []string) ([]capability.Cap, error) {
	var out []capability.Cap
	for _, n := range names {
		c, err := capset.Parse(n)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		out = append(out, c)
	}
	return out, nil
}

func run(o *opts, argv []string) error {
	cur, err := capability.NewPid2(0)
	if err == nil {
		err = cur.Load()
	}
	if err != nil {
		return err
	}
	last, err := capability.LastCap()
	if err != nil {
		return err
	}
	var s capset.Sets
	for c := capability.Cap(0); c <= last; c++ {
		for _, set := range []struct {
			t   capability.CapType
			dst *[]capability.Cap
		}{{capability.BOUNDING, &s.Bounding}, {capability.EFFECTIVE, &s.Effective}, {capability.PERMITTED, &s.Permitted},
			{capability.INHERITABLE, &s.Inheritable}, {capability.AMBIENT, &s.Ambient}} {
			if cur.Get(set.t, c) {
				*set.dst = append(*set.dst, c)
			}
		}
	}
	keep, err := parseCaps("keep", o.keep)
	if err != nil {
		return err
	}
	if len(o.drop) == 1 && strings.EqualFold(o.drop[0], "all") {
		s = capset.Sets{Bounding: keep, Effective: keep, Permitted: keep}
	} else {
		drop, err := parseCaps("drop", o.drop)
		if err != nil {
			return err
		}
		for _, set := range []*[]capability.Cap{&s.Bounding, &s.Effective, &s.Permitted, &s.Inheritable, &s.Ambient} {
			*set = slices.DeleteFunc(*set, func(c capability.Cap) bool { return slices.Contains(drop, c) })
		}
	}
	if o.bounding != nil {
		if s.Bounding, err = parseCaps("bounding", o.bounding); err != nil {
			return err
		}
	}
	amb, err := parseCaps("ambient", o.ambient)
	if err != nil {
		return err
	}
	var cred *capset.Credential
	if o.user != "" {
		cred, err = credential(o.user, o.groups)
		if err != nil {
			return err
		}
		if cred.UID != 0 {
			// capabilities(7): a non-root execve keeps only ambient
			// capabilities (without file capabilities on CMD).
			amb = append(amb, keep...)
		}
	} else if o.groups != nil {
		return errors.New("--groups needs --user")
	}
	for _, c := range amb {
		// The kernel raises an ambient capability only if it is both
		// permitted and inheritable.
		for _, set := range []*[]capability.Cap{&s.Permitted, &s.Inheritable, &s.Effective, &s.Ambient} {
			if !slices.Contains(*set, c) {
				*set = append(*set, c)
			}
		}
	}
	if err := setRlimits(o.rlimits); err != nil {
		return err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	if err := capset.Apply(s, cred); err != nil {
		return err
	}
	if o.noNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return os.NewSyscallError("prctl no_new_privs", err)
		}
	}
	return syscall.Exec(path, argv, os.Environ())
}

func credential(user string, groups []string) (*capset.Credential, error) {
	u, g, hasGID := strings.Cut(user, ":")
	uid, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("--user %q: want numeric UID[:GID]", user)
	}
	gid := uid
	if hasGID {
		if gid, err = strconv.ParseUint(g, 10, 32); err != nil {
			return nil, fmt.Errorf("--user %q: want numeric UID[:GID]", user)
		}
	}
	c := &capset.Credential{UID: uint32(uid), GID: uint32(gid)}
	for _, gr := range groups {
		n, err := strconv.ParseUint(gr, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("--groups: %q is not a number", gr)
		}
		c.Groups = append(c.Groups, uint32(n))
	}
	return c, nil
}

var rlimitNames = map[string]int{
	"AS": unix.RLIMIT_AS, "CORE": unix.RLIMIT_CORE, "CPU": unix.RLIMIT_CPU, "DATA": unix.RLIMIT_DATA,
	"FSIZE": unix.RLIMIT_FSIZE, "LOCKS": unix.RLIMIT_LOCKS, "MEMLOCK": unix.RLIMIT_MEMLOCK,
	"MSGQUEUE": unix.RLIMIT_MSGQUEUE, "NICE": unix.RLIMIT_NICE, "NOFILE": unix.RLIMIT_NOFILE,
	"NPROC": unix.RLIMIT_NPROC, "RSS": unix.RLIMIT_RSS, "RTPRIO": unix.RLIMIT_RTPRIO,
	"RTTIME": unix.RLIMIT_RTTIME, "SIGPENDING": unix.RLIMIT_SIGPENDING, "STACK": unix.RLIMIT_STACK,
}

// setRlimits uses syscall.Setrlimit: for NOFILE it also stops the Go
// runtime from restoring its saved soft limit at execve.
func setRlimits(specs []string) error {
	for _, spec := range specs {
		name, val, ok := strings.Cut(spec, "=")
		res, known := rlimitNames[strings.TrimPrefix(strings.ToUpper(name), "RLIMIT_")]
		if !ok || !known {
			return fmt.Errorf("--rlimit %q: want NAME=SOFT[:HARD] with a known NAME", spec)
		}
		soft, hard, hasHard := strings.Cut(val, ":")
		parse := func(v string) (uint64, error) {
			if v == "unlimited" {
				return unix.RLIM_INFINITY, nil
			}
			return strconv.ParseUint(v, 10, 64)
		}
		s, err := parse(soft)
		h := s
		if err == nil && hasHard {
			h, err = parse(hard)
		}
		if err != nil {
			return fmt.Errorf("--rlimit %q: bad number", spec)
		}
		if err := syscall.Setrlimit(res, &syscall.Rlimit{Cur: s, Max: h}); err != nil {
			return fmt.Errorf("--rlimit %s: %w", spec, err)
		}
	}
	return nil
}
