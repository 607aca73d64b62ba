package capset

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/moby/sys/capability"
)

// Show reads the five capability sets of pid (0: the caller) from
// /proc/PID/status and names them, in the order capabilities(7) lists
// them: "CapEff" -> ["CAP_KILL", ...].
func Show(pid int) (map[string][]string, error) {
	p := "/proc/self/status"
	if pid > 0 {
		p = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":\t")
		if !ok || !strings.HasPrefix(k, "Cap") {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return nil, fmt.Errorf("parse %s %s: %w", p, k, err)
		}
		out[k] = Decode(mask)
	}
	return out, s.Err()
}

// Decode names the capabilities set in mask; unknown bits read "cap_N".
func Decode(mask uint64) []string {
	names := []string{}
	for bit := 0; bit < 64; bit++ {
		if mask&(1<<bit) == 0 {
			continue
		}
		name := fmt.Sprintf("cap_%d", bit)
		for _, c := range capability.ListKnown() {
			if int(c) == bit {
				name = Name(c)
			}
		}
		names = append(names, name)
	}
	return names
}
