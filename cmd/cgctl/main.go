// Command cgctl manages one cgroup on cgroup v1, v2 and hybrid hosts alike:
//
//	cgctl create /demo --memory 64M --pids 32 --cpus 0.5
//	cgctl exec /demo -- sh          # join it, then run sh
//	cgctl stats /demo
//	cgctl delete /demo
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"syscall"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"hako.dev/cgctl"
	"hako.dev/cmd/internal/cli"
	"hako.dev/runtime/container"
)

func main() {
	r := root()
	cli.MaybeGenMan(r)
	if err := r.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "cgctl: %v\n", err)
		os.Exit(1)
	}
}

func manager(path string) (cgctl.Manager, error) {
	return cgctl.New(cgctl.Config{Path: path})
}

// existing is manager for a cgroup that must already be there.
func existing(path string) (cgctl.Manager, error) {
	m, err := manager(path)
	if err != nil {
		return nil, err
	}
	for _, h := range m.Hierarchies() {
		if _, err := os.Stat(h.Dir + m.Path()); err == nil {
			return m, nil
		}
	}
	return nil, fmt.Errorf("cgroup %s does not exist", m.Path())
}

func root() *cobra.Command {
	r := &cobra.Command{
		Use: "cgctl",
		Example: `  cgctl mode                                   # legacy, hybrid or unified
  cgctl create /demo --memory 64M --pids 32 --cpus 0.5
  cgctl exec /demo -- sh -c 'cat /proc/self/cgroup'
  cgctl stats /demo
  cgctl kill /demo && cgctl delete /demo`,
		Short:         "manage a cgroup on cgroup v1, v2 and hybrid hosts",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	var rf resourceFlags
	create := &cobra.Command{
		Use:   "create PATH [limits]",
		Short: "create a cgroup, with limits",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, a []string) error {
			res, err := rf.resources()
			if err != nil {
				return err
			}
			m, err := manager(a[0])
			if err != nil {
				return err
			}
			// An existing cgroup is refused: on a failure below, removing
			// it would remove what was not ours (use set to change it).
			if _, err := existing(a[0]); err == nil {
				return fmt.Errorf("create %s: it exists already (cgctl set changes its limits)", m.Path())
			}
			if err := m.Create(); err != nil {
				m.Destroy()
				return fmt.Errorf("create %s: %w", m.Path(), err)
			}
			if err := m.Set(res); err != nil {
				m.Destroy()
				return fmt.Errorf("create %s: %w", m.Path(), err)
			}
			return nil
		},
	}
	rf.add(create)
	var sf resourceFlags
	set := &cobra.Command{
		Use:   "set PATH [limits]",
		Short: "change limits of an existing cgroup (only those given)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, a []string) error {
			res, err := sf.resources()
			if err != nil {
				return err
			}
			m, err := existing(a[0])
			if err != nil {
				return err
			}
			if err := m.Set(res); err != nil {
				return fmt.Errorf("set %s: %w", m.Path(), err)
			}
			return nil
		},
	}
	sf.add(set)
	r.AddCommand(create, set,
		&cobra.Command{
			Use: "add PATH PID", Short: "move a process into the cgroup (creating it if needed)", Args: cobra.ExactArgs(2),
			RunE: func(_ *cobra.Command, a []string) error {
				pid, err := strconv.Atoi(a[1])
				if err != nil || pid <= 0 {
					return fmt.Errorf("add: bad pid %q", a[1])
				}
				m, err := manager(a[0])
				if err != nil {
					return err
				}
				if err := m.Apply(pid); err != nil {
					return fmt.Errorf("add %d to %s: %w", pid, m.Path(), err)
				}
				return nil
			},
		},
		&cobra.Command{
			Use: "exec PATH -- CMD [ARGS...]", Short: "join the cgroup (creating it if needed), then run CMD in place", Args: cobra.MinimumNArgs(2),
			RunE: func(_ *cobra.Command, a []string) error {
				m, err := manager(a[0])
				if err != nil {
					return err
				}
				path, err := exec.LookPath(a[1])
				if err != nil {
					return err
				}
				// cgroup.procs moves the whole process, every thread.
				if err := m.Apply(os.Getpid()); err != nil {
					return fmt.Errorf("join %s: %w", m.Path(), err)
				}
				return syscall.Exec(path, a[1:], os.Environ())
			},
		},
		simple("freeze", "stop every process of the cgroup", func(m cgctl.Manager) error { return m.Freeze() }),
		simple("thaw", "resume a frozen cgroup", func(m cgctl.Manager) error { return m.Thaw() }),
		simple("delete", "remove the cgroup (it must be empty)", func(m cgctl.Manager) error { return m.Destroy() }),
		simple("pids", "list the cgroup's processes", func(m cgctl.Manager) error {
			pids, err := m.Pids()
			for _, p := range pids {
				fmt.Println(p)
			}
			return err
		}),
		&cobra.Command{
			Use: "kill PATH [SIGNAL]", Short: "signal every process of the cgroup (default SIGKILL)", Args: cobra.RangeArgs(1, 2),
			RunE: func(_ *cobra.Command, a []string) error {
				sig := syscall.SIGKILL
				if len(a) == 2 {
					s, err := container.ParseSignal(a[1])
					if err != nil {
						return err
					}
					sig = s
				}
				m, err := existing(a[0])
				if err != nil {
					return err
				}
				if err := m.Kill(sig); err != nil {
					return fmt.Errorf("kill %s: %w", m.Path(), err)
				}
				return nil
			},
		},
		statsCmd(),
		&cobra.Command{
			Use: "mode", Short: "print the host's cgroup layout: legacy, hybrid or unified", Args: cobra.NoArgs,
			RunE: func(*cobra.Command, []string) error {
				mode, err := cgctl.DetectMode(cgctl.DefaultRoot)
				if err != nil {
					return err
				}
				fmt.Println(mode)
				return nil
			},
		},
	)
	return r
}

func simple(name, short string, op func(cgctl.Manager) error) *cobra.Command {
	return &cobra.Command{
		Use: name + " PATH", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, a []string) error {
			m, err := existing(a[0])
			if err != nil {
				return err
			}
			if err := op(m); err != nil {
				return fmt.Errorf("%s %s: %w", name, m.Path(), err)
			}
			return nil
		},
	}
}

func statsCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use: "stats PATH", Short: "print the cgroup's usage counters", Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, a []string) error {
			m, err := existing(a[0])
			if err != nil {
				return err
			}
			s, err := m.Stats()
			if err != nil {
				return fmt.Errorf("stats %s: %w", m.Path(), err)
			}
			if asJSON {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "memory usage\t%s\t(max %s, limit %s)\n", size(s.Memory.Usage.Usage), size(s.Memory.Usage.Max), size(s.Memory.Usage.Limit))
			fmt.Fprintf(w, "memory cache\t%s\n", size(s.Memory.Cache))
			fmt.Fprintf(w, "oom events\t%d\t(%d kills)\n", s.Memory.OOM, s.Memory.OOMKill)
			fmt.Fprintf(w, "cpu time\t%.3fs\t(user %.3fs, system %.3fs)\n", secs(s.CPU.Usage.Total), secs(s.CPU.Usage.User), secs(s.CPU.Usage.Kernel))
			fmt.Fprintf(w, "cpu throttled\t%d of %d periods\t(%.3fs)\n", s.CPU.Throttling.ThrottledPeriods, s.CPU.Throttling.Periods, secs(s.CPU.Throttling.ThrottledTime))
			fmt.Fprintf(w, "pids\t%d\t(limit %s)\n", s.Pids.Current, count(s.Pids.Limit))
			var sizes []string
			for k := range s.Hugetlb {
				sizes = append(sizes, k)
			}
			sort.Strings(sizes)
			for _, k := range sizes {
				fmt.Fprintf(w, "hugetlb %s\t%s\t(%d failures)\n", k, size(s.Hugetlb[k].Usage), s.Hugetlb[k].Failcnt)
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON (runc's events --stats shape)")
	return c
}

func secs(ns uint64) float64 { return float64(ns) / 1e9 }

func count(v uint64) string {
	if v == 0 || v > 1<<62 {
		return "none"
	}
	return strconv.FormatUint(v, 10)
}

func size(v uint64) string {
	if v > 1<<62 {
		return "none"
	}
	for _, u := range []struct {
		n    uint64
		name string
	}{{1 << 30, "G"}, {1 << 20, "M"}, {1 << 10, "K"}} {
		if v >= u.n {
			return strconv.FormatFloat(float64(v)/float64(u.n), 'f', 1, 64) + u.name
		}
	}
	return strconv.FormatUint(v, 10) + "B"
}
