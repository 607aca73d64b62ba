//go:build cgo

package preinit

import (
	"encoding/binary"
	"syscall"
	"testing"

	"hako.dev/nsenter"
)

func request(t testing.TB) []byte {
	adj := 100
	b, err := (&nsenter.Request{
		New:         []nsenter.Kind{nsenter.User, nsenter.Time},
		Join:        []nsenter.Join{{Kind: nsenter.Net, Path: "/proc/1/ns/net"}},
		TimeOffsets: []nsenter.TimeOffset{{Clock: nsenter.Boottime, Seconds: 10}},
		OOMScoreAdj: &adj,
		Cgroups:     []string{"/sys/fs/cgroup/memory/x/tasks", "/sys/fs/cgroup/pids/x/tasks"},
	}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseAgreesWithDecode(t *testing.T) {
	good := request(t)
	long := append([]byte{}, good...)
	binary.LittleEndian.PutUint16(long[6:], 200) // claims 200 attributes
	cases := map[string][]byte{
		"good":      good,
		"empty":     {},
		"header":    []byte("HKNS\x01\x00\x00\x00"),
		"magic":     append([]byte("HKNX"), good[4:]...),
		"truncated": good[:len(good)-1],
		"count":     long,
		"trailing":  append(append([]byte{}, good...), 1, 2, 3, 4),
		// The last attribute unpadded, then a claim of one more: the
		// padding takes the offset past the end (found by review).
		"padding_past_end": []byte("HKNS\x01\x00\x02\x00\x02\x00\x05\x00\x00\x00\x02\x00x"),
		"flags_twice":      []byte("HKNS\x01\x00\x02\x00\x06\x00\x04\x00\x01\x00\x00\x00\x06\x00\x04\x00\x02\x00\x00\x00"),
		"cgroup_relative":  []byte("HKNS\x01\x00\x01\x00\x07\x00\x04\x00tasks"),
		"cgroup_empty":     []byte("HKNS\x01\x00\x01\x00\x07\x00\x00\x00"),
		"cgroup_nul":       []byte("HKNS\x01\x00\x01\x00\x07\x00\x04\x00/a\x00b"),
		"cgroup_ok":        []byte("HKNS\x01\x00\x01\x00\x07\x00\x04\x00/a/b"),
	}
	for name, b := range cases {
		cerr := parse(b)
		_, gerr := nsenter.Decode(b)
		if (cerr == nil) != (gerr == nil) {
			t.Errorf("%s: C parser says %v, Go decoder says %v", name, cerr, gerr)
		}
	}
	if err := parse(good); err != nil {
		t.Errorf("C parser refuses a good request: %v", err)
	}
}

// FuzzParse holds the C parser to the Go decoder: both accept or both
// refuse, and neither reads out of bounds (build with -asan to check the C
// side's memory too).
func FuzzParse(f *testing.F) {
	f.Add(request(f))
	f.Add([]byte("HKNS\x01\x00\x01\x00\x02\x00\x05\x00\x00\x00\x00\x40x\x00\x00\x00"))
	f.Add([]byte("HKNS\x01\x00\x01\x00\x03\x00\x14\x00\x07\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cerr := parse(b)
		_, gerr := nsenter.Decode(b)
		if (cerr == nil) != (gerr == nil) {
			t.Fatalf("C parser says %v, Go decoder says %v, for %x", cerr, gerr, b)
		}
	})
}

// The C stage words every errno as Go does (errnotext.h, generated from
// syscall.Errno), whatever the C library's strerror says.
func TestCauseIsGos(t *testing.T) {
	for e := range 300 {
		if got, want := cause(e), syscall.Errno(e).Error(); got != want {
			t.Errorf("errno %d: %q, want %q", e, got, want)
		}
	}
}
