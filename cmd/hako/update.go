package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"

	"hako.dev/runtime/container"
)

// updateCmd is runc's update: new limits for a container's cgroup, from
// --resources (a linux.resources JSON file, - for stdin: docker update) or
// per-field flags; only what is given changes.
func updateCmd(g *globals) *cobra.Command {
	var file string
	var memory, memSwap, memRes, cpuQuota, pids int64
	var cpuPeriod, cpuShares uint64
	var cpusetCPUs, cpusetMems string
	cmd := &cobra.Command{
		Use:   "update [flags] <container-id>",
		Short: "change the resource limits of a container",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id := args[0]
			ctr, err := container.Load(g.root, id)
			if err != nil {
				return fmt.Errorf("update %s: %w", id, err)
			}
			r := &specs.LinuxResources{}
			if file != "" {
				var b []byte
				if file == "-" {
					b, err = io.ReadAll(os.Stdin)
				} else {
					b, err = os.ReadFile(file)
				}
				if err == nil {
					err = json.Unmarshal(b, r)
				}
				if err != nil {
					return fmt.Errorf("update %s: read --resources %s: %w", id, file, err)
				}
			}
			set := func(name string) bool { return c.Flags().Changed(name) }
			mem := func() *specs.LinuxMemory {
				if r.Memory == nil {
					r.Memory = &specs.LinuxMemory{}
				}
				return r.Memory
			}
			cpu := func() *specs.LinuxCPU {
				if r.CPU == nil {
					r.CPU = &specs.LinuxCPU{}
				}
				return r.CPU
			}
			if set("memory") {
				mem().Limit = &memory
			}
			if set("memory-swap") {
				mem().Swap = &memSwap
			}
			if set("memory-reservation") {
				mem().Reservation = &memRes
			}
			if set("cpu-quota") {
				cpu().Quota = &cpuQuota
			}
			if set("cpu-period") {
				cpu().Period = &cpuPeriod
			}
			if set("cpu-share") {
				cpu().Shares = &cpuShares
			}
			if set("cpuset-cpus") {
				cpu().Cpus = cpusetCPUs
			}
			if set("cpuset-mems") {
				cpu().Mems = cpusetMems
			}
			if set("pids-limit") {
				r.Pids = &specs.LinuxPids{Limit: &pids}
			}
			if err := ctr.Update(r); err != nil {
				return fmt.Errorf("update %s: %w", id, err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "resources", "r", "", "linux.resources JSON file, - for stdin")
	f.Int64Var(&memory, "memory", 0, "memory limit in bytes")
	f.Int64Var(&memSwap, "memory-swap", 0, "memory+swap limit in bytes (-1 for none)")
	f.Int64Var(&memRes, "memory-reservation", 0, "memory soft limit in bytes")
	f.Int64Var(&cpuQuota, "cpu-quota", 0, "CPU CFS quota in microseconds per period")
	f.Uint64Var(&cpuPeriod, "cpu-period", 0, "CPU CFS period in microseconds")
	f.Uint64Var(&cpuShares, "cpu-share", 0, "CPU shares (relative weight)")
	f.StringVar(&cpusetCPUs, "cpuset-cpus", "", "CPUs allowed, e.g. 0-1")
	f.StringVar(&cpusetMems, "cpuset-mems", "", "memory nodes allowed")
	f.Int64Var(&pids, "pids-limit", 0, "maximum number of tasks (-1 for none)")
	return cmd
}
