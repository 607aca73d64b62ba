//go:build cgo

package execstage

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

func valid() *Plan {
	return &Plan{
		Sync: 3, Fifo: 4, Master: -1, PreserveFrom: 5, Preserve: 2, NoNewPrivs: true,
		BPF: bytes.Repeat([]byte{6, 0, 0, 0, 0, 0, 0xff, 0x7f}, 3), SeccompFlags: 1,
		Path: "/bin/sh", Args: []string{"sh", "-c", ""}, Env: []string{"PATH=/bin", "HOME=/"},
	}
}

func TestEncodeParseRoundTrip(t *testing.T) {
	for _, p := range []*Plan{valid(), {Sync: 3, Fifo: 4, Master: 7, Path: "/x", Args: []string{"x"}}} {
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		args, env, err := parse(b)
		if err != nil {
			t.Fatalf("C parser refused Encode's plan: %v", err)
		}
		if !reflect.DeepEqual(args, p.Args) || len(env) != len(p.Env) || (len(env) > 0 && !reflect.DeepEqual(env, p.Env)) {
			t.Fatalf("parsed args %q env %q, want %q %q", args, env, p.Args, p.Env)
		}
	}
}

func TestEncodeRefuses(t *testing.T) {
	for name, mod := range map[string]func(*Plan){
		"no path":      func(p *Plan) { p.Path = "" },
		"no args":      func(p *Plan) { p.Args = nil },
		"NUL in env":   func(p *Plan) { p.Env = []string{"A=\x00"} },
		"partial insn": func(p *Plan) { p.BPF = p.BPF[:5] },
		"long program": func(p *Plan) { p.BPF = make([]byte, 8*(maxBPF+1)) },
	} {
		p := valid()
		mod(p)
		if _, err := p.Encode(); err == nil {
			t.Errorf("%s: Encode took it", name)
		}
	}
}

// TestParseRefuses: the C parser takes nothing but a whole, consistent
// plan (it runs in the container's init, before any Go).
func TestParseRefuses(t *testing.T) {
	good, err := valid().Encode()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.NativeEndian
	set := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { le.PutUint32(b[off:], v); return b }
	}
	for _, tc := range []struct {
		name, want string
		mod        func([]byte) []byte
	}{
		{"empty", "short header", func(b []byte) []byte { return nil }},
		{"magic", "bad magic", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"version", "unknown version", set(4, 2)},
		{"sync fd", "bad descriptor", set(8, 0xffffffff)},
		{"master fd", "bad descriptor", set(16, 0xfffffffe)},
		{"preserve count", "bad descriptor", set(24, 0xffffffff)},
		{"flags", "unknown flags", set(28, 2)},
		{"bpf length", "seccomp program too long", set(36, maxBPF+1)},
		{"bpf length vs size", "length mismatch", set(36, 2)},
		{"no args", "bad argument count", set(40, 0)},
		{"arg count", "string count mismatch", set(40, 2)},
		{"truncated", "length mismatch", func(b []byte) []byte { return b[:len(b)-1] }},
		{"trailing", "length mismatch", func(b []byte) []byte { return append(b, 0) }},
		{"unterminated", "unterminated string", func(b []byte) []byte { b[len(b)-1] = 'x'; return b }},
		// "/bin/sh" -> "", "bin/sh": one string more, counted as env.
		{"empty path", "empty path", func(b []byte) []byte { b[hdrLen+24] = 0; return set(44, 3)(b) }},
	} {
		b := tc.mod(append([]byte(nil), good...))
		_, _, err := parse(b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	good, _ := valid().Encode()
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		parse(b) // must not crash or read past b (run under -asan)
	})
}
