package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
)

// resourceFlags are the limits create and set take, or a whole
// linux.resources object from a JSON file.
type resourceFlags struct {
	file                         string
	memory, memorySwap, memoryLo string
	cpus                         string
	cpuShares                    uint64
	cpusetCPUs, cpusetMems       string
	pids                         int64
	ioWeight                     uint16
	cmd                          *cobra.Command
}

func (f *resourceFlags) add(c *cobra.Command) {
	f.cmd = c
	fl := c.Flags()
	fl.StringVar(&f.file, "resources", "", "OCI linux.resources JSON file (- for stdin); exclusive with the flags below")
	fl.StringVar(&f.memory, "memory", "", "memory limit: bytes or 64M, 1G; max for none")
	fl.StringVar(&f.memorySwap, "memory-swap", "", "memory+swap limit, as --memory")
	fl.StringVar(&f.memoryLo, "memory-reservation", "", "memory soft limit, as --memory")
	fl.StringVar(&f.cpus, "cpus", "", "CPU bandwidth in CPUs, e.g. 0.5 (quota over a 100ms period)")
	fl.Uint64Var(&f.cpuShares, "cpu-shares", 0, "relative CPU weight (v1 shares, 2-262144; converted on v2)")
	fl.StringVar(&f.cpusetCPUs, "cpuset-cpus", "", "CPUs allowed, e.g. 0-1")
	fl.StringVar(&f.cpusetMems, "cpuset-mems", "", "memory nodes allowed, e.g. 0")
	fl.Int64Var(&f.pids, "pids", 0, "maximum number of tasks; -1 for none")
	fl.Uint16Var(&f.ioWeight, "io-weight", 0, "relative block I/O weight (10-1000)")
}

func (f *resourceFlags) resources() (*specs.LinuxResources, error) {
	changed := func(n string) bool { return f.cmd.Flags().Changed(n) }
	if f.file != "" {
		for _, n := range []string{"memory", "memory-swap", "memory-reservation", "cpus", "cpu-shares", "cpuset-cpus", "cpuset-mems", "pids", "io-weight"} {
			if changed(n) {
				return nil, fmt.Errorf("--resources and --%s are exclusive", n)
			}
		}
		var b []byte
		var err error
		if f.file == "-" {
			b, err = io.ReadAll(os.Stdin)
		} else {
			b, err = os.ReadFile(f.file)
		}
		if err != nil {
			return nil, err
		}
		var r specs.LinuxResources
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("parse %s: %w", f.file, err)
		}
		return &r, nil
	}
	r := &specs.LinuxResources{}
	mem := func(flag, v string) (*int64, error) {
		if !changed(flag) {
			return nil, nil
		}
		n, err := ParseSize(v)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		return &n, nil
	}
	var m specs.LinuxMemory
	var err error
	if m.Limit, err = mem("memory", f.memory); err != nil {
		return nil, err
	}
	if m.Swap, err = mem("memory-swap", f.memorySwap); err != nil {
		return nil, err
	}
	if m.Reservation, err = mem("memory-reservation", f.memoryLo); err != nil {
		return nil, err
	}
	if m != (specs.LinuxMemory{}) {
		r.Memory = &m
	}
	var c specs.LinuxCPU
	if changed("cpus") {
		v, err := strconv.ParseFloat(f.cpus, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("--cpus %q: want a positive number of CPUs", f.cpus)
		}
		period := uint64(100000)
		quota := int64(v * float64(period))
		c.Period, c.Quota = &period, &quota
	}
	if changed("cpu-shares") {
		c.Shares = &f.cpuShares
	}
	c.Cpus, c.Mems = f.cpusetCPUs, f.cpusetMems
	if c.Period != nil || c.Shares != nil || c.Cpus != "" || c.Mems != "" {
		r.CPU = &c
	}
	if changed("pids") {
		r.Pids = &specs.LinuxPids{Limit: &f.pids}
	}
	if changed("io-weight") {
		r.BlockIO = &specs.LinuxBlockIO{Weight: &f.ioWeight}
	}
	return r, nil
}

// ParseSize reads a byte count: 1024, 512k, 64M, 1G (powers of 1024), or
// "max"/-1 for no limit.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	if t == "max" || t == "-1" {
		return -1, nil
	}
	mult := int64(1)
	t = strings.TrimSuffix(t, "b")
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1<<10, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1<<20, strings.TrimSuffix(t, "m")
	case strings.HasSuffix(t, "g"):
		mult, t = 1<<30, strings.TrimSuffix(t, "g")
	case strings.HasSuffix(t, "t"):
		mult, t = 1<<40, strings.TrimSuffix(t, "t")
	}
	n, err := strconv.ParseFloat(t, 64)
	// (ParseFloat also takes "nan" and "inf"; NaN fails every comparison.)
	if err != nil || !(n >= 0) || n*float64(mult) >= math.MaxInt64 {
		return 0, fmt.Errorf("bad size %q: want bytes, or a number with k, M, G or T", s)
	}
	return int64(n * float64(mult)), nil
}
