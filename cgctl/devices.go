package cgctl

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// deviceWrites applies the rules in order on v1: first everything is denied
// ("a" to devices.deny), then each rule is written to devices.allow or
// devices.deny, so later rules win as the spec says. A config without
// device rules leaves the cgroup's inherited access alone.
func deviceWrites(rules []specs.LinuxDeviceCgroup, v2 bool) ([]write, error) {
	if len(rules) == 0 {
		return nil, nil
	}
	if v2 {
		return nil, nil // an eBPF program, not files: see Set
	}
	ws := []write{wr("devices", "devices.deny", "a")}
	for _, r := range rules {
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		line, err := DeviceRule(r)
		if err != nil {
			return nil, err
		}
		ws = append(ws, wr("devices", file, line))
	}
	return ws, nil
}

// DeviceRule formats one rule as the v1 devices files read it:
// "c 1:3 rwm", "a *:* rwm" (missing type, major or minor mean all).
func DeviceRule(r specs.LinuxDeviceCgroup) (string, error) {
	typ := r.Type
	switch typ {
	case "", "a":
		typ = "a"
	case "b", "c":
	default:
		return "", fmt.Errorf("device rule: unknown type %q", r.Type)
	}
	num := func(p *int64) string {
		if p == nil || *p < 0 {
			return "*"
		}
		return itoa(*p)
	}
	access := r.Access
	if access == "" {
		access = "rwm"
	}
	for _, c := range access {
		if c != 'r' && c != 'w' && c != 'm' {
			return "", fmt.Errorf("device rule: bad access %q", r.Access)
		}
	}
	return fmt.Sprintf("%s %s:%s %s", typ, num(r.Major), num(r.Minor), access), nil
}
