// Command seccomp compiles an OCI seccomp profile (linux.seccomp, alone or
// inside a config.json) and runs a command under it, shows it, or says
// what it does with one syscall:
//
//	seccomp run --profile p.json -- CMD [ARGS...]
//	seccomp check --profile p.json mkdir
//	seccomp dump --profile p.json
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"hako.dev/cmd/internal/cli"
	"hako.dev/seccomp"
)

func init() { runtime.LockOSThread() } // run: load and exec from one thread

func main() {
	r := root()
	cli.MaybeGenMan(r)
	if err := r.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "seccomp: %v\n", err)
		os.Exit(1)
	}
}

// load reads a profile: a linux.seccomp object, or a config.json with one.
func load(path string, noNewPrivs bool) (*seccomp.Filter, error) {
	if path == "" {
		return nil, errors.New("--profile is required")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var spec specs.Spec
	var p *specs.LinuxSeccomp
	if json.Unmarshal(b, &spec) == nil && spec.Linux != nil && spec.Linux.Seccomp != nil {
		p = spec.Linux.Seccomp
	} else {
		p = &specs.LinuxSeccomp{}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(p); err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
	}
	f, skipped, err := seccomp.Compile(p, noNewPrivs)
	if err != nil {
		return nil, err
	}
	for _, s := range skipped {
		fmt.Fprintf(os.Stderr, "seccomp: warning: %s is unknown to this libseccomp; its rule is skipped\n", s)
	}
	return f, nil
}

func root() *cobra.Command {
	var profile string
	var nnp bool
	r := &cobra.Command{Use: "seccomp", Short: "compile, inspect and apply OCI seccomp profiles", SilenceErrors: true, SilenceUsage: true,
		Example: `  seccomp check --profile profile.json mkdir     # what the profile does with mkdir(2)
  seccomp dump --profile profile.json            # the compiled filter, readable
  seccomp run --profile profile.json -- sh       # a shell under it`}
	r.PersistentFlags().StringVarP(&profile, "profile", "p", "", "OCI seccomp profile (JSON), or a config.json holding one")
	run := &cobra.Command{
		Use: "run --profile FILE -- CMD [ARGS...]", Short: "run CMD under the profile", Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, a []string) error {
			f, err := load(profile, nnp)
			if err != nil {
				return err
			}
			path, err := exec.LookPath(a[0])
			if err != nil {
				return err
			}
			if nnp {
				if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
					return os.NewSyscallError("prctl no_new_privs", err)
				}
			}
			if f.Notify() {
				return errors.New("the profile sends syscalls to a listener (SCMP_ACT_NOTIFY): run it in a container (hako hands the listener to its listenerPath)")
			}
			if _, err := f.Load(); err != nil {
				return err
			}
			return syscall.Exec(path, a, os.Environ())
		},
	}
	run.Flags().BoolVar(&nnp, "no-new-privs", true, "set no_new_privs first (without it, loading needs CAP_SYS_ADMIN)")
	r.AddCommand(run,
		&cobra.Command{
			Use: "check --profile FILE SYSCALL [ARG...]", Short: "print what the profile does with one call", Args: cobra.RangeArgs(1, 7),
			RunE: func(_ *cobra.Command, a []string) error {
				f, err := load(profile, true)
				if err != nil {
					return err
				}
				var args []uint64
				for _, s := range a[1:] {
					v, err := strconv.ParseUint(s, 0, 64)
					if err != nil {
						return fmt.Errorf("argument %q: not a number", s)
					}
					args = append(args, v)
				}
				act, err := f.Check(a[0], args...)
				if err != nil {
					return err
				}
				fmt.Println(act)
				return nil
			},
		},
		&cobra.Command{
			Use: "dump --profile FILE", Short: "print the compiled filter as readable pseudo-C", Args: cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				f, err := load(profile, true)
				if err != nil {
					return err
				}
				pfc, err := f.PFC()
				fmt.Print(pfc)
				return err
			},
		})
	return r
}
