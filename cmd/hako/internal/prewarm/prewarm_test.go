package prewarm

import (
	"testing"

	"hako.dev/runtime/container"
)

func TestStartsProcess(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"run", "c1"}, true},
		{[]string{"--root", "/run/hako", "--log-format", "json", "create", "--bundle", "b", "c1"}, true},
		{[]string{"exec", "c1", "run"}, true},
		{[]string{"--debug", "exec", "-t", "c1", "sh"}, true},
		{[]string{"state", "c1"}, false},
		{[]string{"--version"}, false},
		{nil, false},
	} {
		if got := startsProcess(tc.args); got != tc.want {
			t.Errorf("startsProcess(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// The Go init's marker is container.InitEnv.
func TestInitEnv(t *testing.T) {
	if initEnv != container.InitEnv {
		t.Errorf("initEnv = %q, container.InitEnv = %q", initEnv, container.InitEnv)
	}
}
