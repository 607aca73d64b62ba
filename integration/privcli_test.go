package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCapsetCLI(t *testing.T) {
	r := runBin(t, capsetBin, "--drop", "all", "--keep", "net_bind_service", "--user", "1000:1000", "--groups", "5",
		"--no-new-privs", "--rlimit", "NOFILE=100:200", "--",
		"sh", "-c", "grep -E 'Cap(Eff|Prm|Bnd|Amb)|NoNewPrivs' /proc/self/status; id -u; id -G; ulimit -n; ulimit -Hn")
	want := "CapPrm:\t0000000000000400\nCapEff:\t0000000000000400\nCapBnd:\t0000000000000400\nCapAmb:\t0000000000000400\nNoNewPrivs:\t1\n1000\n1000 5\n100\n200\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("capset run: %+v\nwant stdout %q", r, want)
	}
	if r := runBin(t, capsetBin, "show", "1"); r.code != 0 || !strings.Contains(r.stdout, "CapBnd\tCAP_CHOWN,") {
		t.Errorf("capset show 1: %+v", r)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--drop", "cap_nope", "--", "true"}, `unknown capability "cap_nope"`},
		{[]string{"--rlimit", "FILES=1", "--", "true"}, "want NAME=SOFT[:HARD]"},
		{[]string{"--groups", "5", "--", "true"}, "--groups needs --user"},
		{[]string{"--user", "bob", "--", "true"}, "want numeric UID[:GID]"},
		{[]string{"--drop", "all", "--keep", "sys_resource", "--", "true"}, "CAP_SYS_RESOURCE not in the runtime's own bounding set"},
		{[]string{"show", "x"}, `bad pid "x"`},
	} {
		r := runBin(t, capsetBin, tc.args...)
		if r.code == 0 || !strings.HasPrefix(r.stderr, "capset: ") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("capset %v: %+v, want %q", tc.args, r, tc.want)
		}
	}
}

func TestSeccompCLI(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "p.json")
	os.WriteFile(p, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
		{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"},
		{"names":["kill"],"action":"SCMP_ACT_ERRNO","errnoRet":38,"args":[{"index":1,"value":0,"op":"SCMP_CMP_EQ"}]}]}`), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "-p", p, "mkdir"}, "SCMP_ACT_ERRNO(1)\n"},
		{[]string{"check", "-p", p, "kill", "1", "0"}, "SCMP_ACT_ERRNO(38)\n"},
		{[]string{"check", "-p", p, "kill", "1", "9"}, "SCMP_ACT_ALLOW\n"},
	} {
		if r := runBin(t, seccompBin, tc.args...); r.code != 0 || r.stdout != tc.want {
			t.Errorf("seccomp %v: %+v, want %q", tc.args, r, tc.want)
		}
	}
	if r := runBin(t, seccompBin, "run", "-p", p, "--", "mkdir", filepath.Join(dir, "x")); r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("seccomp run: %+v", r)
	}
	if r := runBin(t, seccompBin, "dump", "-p", p); r.code != 0 || !strings.Contains(r.stdout, "pseudo filter code") {
		t.Errorf("seccomp dump: %+v", r)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"defaultAction":"SCMP_ACT_MAYBE"}`), 0o644)
	if r := runBin(t, seccompBin, "check", "-p", bad, "read"); r.code == 0 || !strings.Contains(r.stderr, `unknown action "SCMP_ACT_MAYBE"`) {
		t.Errorf("bad profile: %+v", r)
	}
}
