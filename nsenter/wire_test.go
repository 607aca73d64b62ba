package nsenter

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func goldenRequest() *Request {
	adj := -500
	return &Request{
		New: []Kind{Mount, PID, User, Time},
		// Given out of order: the wire carries them in join order.
		Join:        []Join{{Kind: Net, Path: "/proc/42/ns/net"}, {Kind: IPC, Path: "/run/ipc"}},
		UIDMap:      []IDMap{{0, 1000, 1}},
		GIDMap:      []IDMap{{0, 1000, 1}},
		TimeOffsets: []TimeOffset{{Clock: Boottime, Seconds: 86400, Nanos: 5}, {Clock: Monotonic, Seconds: -3}},
		OOMScoreAdj: &adj,
	}
}

// The C parser reads exactly these bytes: a change here is a change of
// protocol and must change preinit.c with it.
func TestWireGolden(t *testing.T) {
	got, err := goldenRequest().Encode()
	if err != nil {
		t.Fatal(err)
	}
	const path = "testdata/request.golden"
	if *update {
		os.WriteFile(path, []byte(hex.Dump(got)), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if hex.Dump(got) != string(want) {
		t.Errorf("wire bytes changed:\n%s\nwant\n%s", hex.Dump(got), want)
	}
}

func TestWireRoundTrip(t *testing.T) {
	r := goldenRequest()
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	d, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	// Maps and setgroups stay with the parent; joins come back sorted.
	want := *r
	want.UIDMap, want.GIDMap = nil, nil
	want.Join = []Join{{Kind: IPC, Path: "/run/ipc"}, {Kind: Net, Path: "/proc/42/ns/net"}}
	want.New = []Kind{User, PID, Time, Mount}
	if !reflect.DeepEqual(d, &want) {
		t.Errorf("Decode(Encode(r)) = %+v\nwant %+v", d, &want)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		r    Request
		want string
	}{
		{"empty", Request{}, ""},
		{"unknown", Request{New: []Kind{"bogus"}}, `unknown namespace kind "bogus"`},
		{"twice", Request{New: []Kind{Net, Net}}, "net listed twice"},
		{"new_and_join", Request{New: []Kind{Net}, Join: []Join{{Net, "/x"}}}, "both created and joined"},
		{"empty_path", Request{Join: []Join{{Net, ""}}}, "empty path"},
		{"maps_without_user", Request{UIDMap: []IDMap{{0, 0, 1}}}, "need a new user namespace"},
		{"offsets_without_time", Request{TimeOffsets: []TimeOffset{{Monotonic, 1, 0}}}, "need a new time namespace"},
		{"bad_clock", Request{New: []Kind{Time}, TimeOffsets: []TimeOffset{{"realtime", 1, 0}}}, `unknown clock "realtime"`},
		{"bad_nanos", Request{New: []Kind{Time}, TimeOffsets: []TimeOffset{{Boottime, 1, 1e9}}}, "out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	good, _ := goldenRequest().Encode()
	for name, b := range map[string][]byte{
		"empty":       nil,
		"magic":       append([]byte("XXXX"), good[4:]...),
		"version":     append(append([]byte{}, good[:4]...), append([]byte{2, 0}, good[6:]...)...),
		"truncated":   good[:len(good)-3],
		"trailing":    append(append([]byte{}, good...), 0, 0, 0, 0),
		"extra_count": append(append(append([]byte{}, good[:6]...), good[6]+1, good[7]), good[8:]...),
	} {
		if _, err := Decode(b); err == nil {
			t.Errorf("%s: Decode accepted %x", name, b)
		}
	}
}

// FuzzDecode: malformed input is an error, never a panic, and whatever
// decodes encodes back to the same request.
func FuzzDecode(f *testing.F) {
	good, _ := goldenRequest().Encode()
	f.Add(good)
	f.Add([]byte("HKNS\x01\x00\x00\x00"))
	f.Add([]byte("HKNS\x01\x00\x01\x00\x02\x00\x05\x00\x00\x00\x00\x40x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		if r.Validate() != nil {
			return // decodable but not a request Encode would make
		}
		// Encode puts joins in join order, so compare encodings: the
		// first one is canonical and must survive a round trip as is.
		again, err := r.Encode()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		r2, err := Decode(again)
		if err != nil {
			t.Fatalf("decode of an encoding: %v", err)
		}
		third, err := r2.Encode()
		if err != nil || !bytes.Equal(again, third) {
			t.Fatalf("round trip changed %x into %x (%v)", again, third, err)
		}
	})
}
