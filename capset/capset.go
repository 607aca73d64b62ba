package capset

import (
	"fmt"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Sets are the five capability sets of a process.
type Sets struct {
	Bounding, Effective, Permitted, Inheritable, Ambient []capability.Cap
}

// Parse reads a capability name in any of the forms people write:
// "CAP_NET_RAW", "cap_net_raw", "NET_RAW", "net_raw".
func Parse(name string) (capability.Cap, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "cap_")
	for _, c := range capability.ListKnown() {
		if c.String() == n {
			return c, nil
		}
	}
	return 0, fmt.Errorf("unknown capability %q", name)
}

// Name is the canonical spelling of c, e.g. "CAP_NET_RAW".
func Name(c capability.Cap) string { return "CAP_" + strings.ToUpper(c.String()) }

// FromSpec converts the OCI capability lists. Names this package or the
// running kernel does not know are left out and returned in skipped, so the
// caller can warn about them the way runc does instead of failing: a config
// written for a newer kernel still runs.
func FromSpec(c *specs.LinuxCapabilities) (s Sets, skipped []string, err error) {
	if c == nil {
		return Sets{}, nil, nil
	}
	last, err := capability.LastCap()
	if err != nil {
		return Sets{}, nil, fmt.Errorf("read last capability: %w", err)
	}
	conv := func(names []string) []capability.Cap {
		var out []capability.Cap
		for _, n := range names {
			cp, err := Parse(n)
			if err != nil || cp > last {
				if !slices.Contains(skipped, n) {
					skipped = append(skipped, n)
				}
				continue
			}
			out = append(out, cp)
		}
		return out
	}
	s = Sets{
		Bounding:    conv(c.Bounding),
		Effective:   conv(c.Effective),
		Permitted:   conv(c.Permitted),
		Inheritable: conv(c.Inheritable),
		Ambient:     conv(c.Ambient),
	}
	return s, skipped, nil
}

// Known names every capability this package and the running kernel know.
func Known() []string {
	last, err := capability.LastCap()
	var out []string
	for _, c := range capability.ListKnown() {
		if err == nil && c > last {
			continue
		}
		out = append(out, Name(c))
	}
	return out
}

// Mask is a set as a bit mask, bit N for capability N, as capset(2) and
// /proc/PID/status have it.
func Mask(cs []capability.Cap) uint64 {
	var m uint64
	for _, c := range cs {
		m |= 1 << uint(c)
	}
	return m
}

// LastCap is the highest capability the running kernel knows.
func LastCap() (capability.Cap, error) { return capability.LastCap() }
