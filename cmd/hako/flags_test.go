package main

import (
	"os"
	"reflect"
	"testing"

	"github.com/spf13/cobra"
)

func TestLongFlags(t *testing.T) {
	root := &cobra.Command{Use: "hako"}
	root.PersistentFlags().String("root", "", "")
	root.PersistentFlags().Bool("debug", false, "")
	run := &cobra.Command{Use: "run"}
	run.Flags().Bool("no-subreaper", false, "")
	run.Flags().StringP("bundle", "b", "", "")
	exec := &cobra.Command{Use: "exec"}
	exec.Flags().StringP("process", "p", "", "")
	exec.Flags().Bool("no-new-privs", false, "")
	root.AddCommand(run, exec)
	for _, tc := range []struct{ in, want []string }{
		{[]string{"-root", "/r", "run", "-no-subreaper", "-bundle", "/b", "id"},
			[]string{"--root", "/r", "run", "--no-subreaper", "--bundle", "/b", "id"}},
		{[]string{"-root=/r", "-debug", "run", "-b", "/b", "id"}, []string{"--root=/r", "--debug", "run", "-b", "/b", "id"}},
		// Exec's COMMAND keeps its own flags, even ones named like ours.
		{[]string{"exec", "-p", "/p.json", "-no-new-privs", "id", "ls", "-root", "-debug"},
			[]string{"exec", "-p", "/p.json", "--no-new-privs", "id", "ls", "-root", "-debug"}},
		{[]string{"exec", "id", "sh", "-no-new-privs"}, []string{"exec", "id", "sh", "-no-new-privs"}},
		// Unknown names are cobra's to refuse.
		{[]string{"run", "-bogus", "id"}, []string{"run", "-bogus", "id"}},
		{[]string{"--", "-root"}, []string{"--", "-root"}},
	} {
		if got := longFlags(root, tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("longFlags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSeccompCacheDir(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/run/user/1000")
	root := "/run/hako-cache/seccomp"
	if os.Geteuid() != 0 || !initialUserNS() {
		root = "/run/user/1000/hako-cache/seccomp"
	}
	for env, want := range map[string]string{"": root, "off": "", "/x/y": "/x/y"} {
		t.Setenv("HAKO_SECCOMP_CACHE", env)
		if got := seccompCache(); got != want {
			t.Errorf("HAKO_SECCOMP_CACHE=%q: %q, want %q", env, got, want)
		}
	}
}
