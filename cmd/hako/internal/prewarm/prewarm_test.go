package prewarm

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestTarget(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want any
	}{
		{[]string{"run", "c1"}, new(specs.Spec)},
		{[]string{"--root", "/run/hako", "--log-format", "json", "create", "--bundle", "b", "c1"}, new(specs.Spec)},
		{[]string{"exec", "c1", "run"}, new(specs.Process)},
		{[]string{"--debug", "exec", "-t", "c1", "sh"}, new(specs.Process)},
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

// Wait returns at once when no command asked for the tables; the test
// binary's arguments name none of run, create and exec.
func TestWaitWithoutTarget(t *testing.T) {
	if done != nil {
		t.Skip("the test binary's arguments name a command")
	}
	Wait()
}
