package prewarm

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako.dev/runtime/container"
)

var update = flag.Bool("update", false, "write warm.json")

func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want any
	}{
		{[]string{"run", "c1"}, new(specs.Spec)},
		{[]string{"--root", "/run/hako", "--log-format", "json", "create", "--bundle", "b", "c1"}, new(specs.Spec)},
		{[]string{"exec", "c1", "run"}, new(processPart)},
		{[]string{"--debug", "exec", "-t", "c1", "sh"}, new(processPart)},
		{[]string{"state", "c1"}, nil},
		{[]string{"--version"}, nil},
		{nil, nil},
	} {
		got := target(tc.args)
		if reflect.TypeOf(got) != reflect.TypeOf(tc.want) {
			t.Errorf("target(%q) = %T, want %T", tc.args, got, tc.want)
		}
	}
}

// The Go init's marker is container.InitEnv.
func TestInitEnv(t *testing.T) {
	if initEnv != container.InitEnv {
		t.Errorf("initEnv = %q, container.InitEnv = %q", initEnv, container.InitEnv)
	}
}

// TestWarmJSON holds warm.json to what fill makes of specs.Spec (-update
// writes it), and checks that it decodes whole into both targets.
func TestWarmJSON(t *testing.T) {
	var s specs.Spec
	fill(reflect.ValueOf(&s).Elem(), map[reflect.Type]bool{})
	want, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("warm.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		warmJSON = want
	}
	if !bytes.Equal(warmJSON, want) {
		t.Fatalf("warm.json is not what specs.Spec holds now: go generate ./cmd/hako/internal/prewarm")
	}
	var got specs.Spec
	if err := json.Unmarshal(warmJSON, &got); err != nil || !reflect.DeepEqual(got, s) {
		t.Errorf("warm.json decodes as %+v (%v), want %+v", got, err, s)
	}
	var p processPart
	if err := json.Unmarshal(warmJSON, &p); err != nil || !reflect.DeepEqual(p.Process, s.Process) {
		t.Errorf("warm.json's process decodes as %+v (%v)", p.Process, err)
	}
	// Some of what a container engine's config holds, as a check that
	// fill reached down: a seccomp rule's argument, a device limit.
	if len(got.Linux.Seccomp.Syscalls[0].Args) != 1 || len(got.Linux.Resources.BlockIO.ThrottleReadBpsDevice) != 1 {
		t.Errorf("warm.json misses nested parts: %s", warmJSON)
	}
}

// fill sets v's pointers, lists and maps, down to its scalars: every
// pointer set, every list and map given one element. Other operating
// systems' parts of a config are left out, and so is a type inside
// itself.
func fill(v reflect.Value, inside map[reflect.Type]bool) {
	t := v.Type()
	if inside[t] {
		return
	}
	inside[t] = true
	defer delete(inside, t)
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(t.Elem()))
		fill(v.Elem(), inside)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && !otherOS[f.Name] {
				fill(v.Field(i), inside)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(t, 1, 1))
		fill(v.Index(0), inside)
	case reflect.Map:
		m := reflect.MakeMapWithSize(t, 1)
		e := reflect.New(t.Elem()).Elem()
		fill(e, inside)
		m.SetMapIndex(reflect.New(t.Key()).Elem(), e)
		v.Set(m)
	}
}

// otherOS names the parts of specs.Spec that no Linux config holds.
var otherOS = map[string]bool{"Solaris": true, "Windows": true, "VM": true, "ZOS": true, "FreeBSD": true}
