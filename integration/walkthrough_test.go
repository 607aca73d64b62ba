package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docs/walkthrough.md runs: its sh blocks, in order, in one shell, in an
// empty folder, with hako's binaries first in $PATH. The page cannot rot.
func TestWalkthrough(t *testing.T) {
	e := newEnv(t)
	doc, err := os.ReadFile("../docs/walkthrough.md")
	if err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString("set -eu\n")
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		script.WriteString(m[1])
	}
	dir := t.TempDir()
	// What the page makes, removed whatever happened.
	t.Cleanup(func() {
		exec.Command(filepath.Join(filepath.Dir(hakoBin), "hako"), "--root", filepath.Join(dir, "demo/state"), "delete", "-f", "demo1").Run()
		for _, cg := range []string{"/demo", "/hako/script"} {
			exec.Command(cgctlBin, "delete", cg).Run()
		}
	})
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(hakoBin)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walkthrough: %v\n%s", err, out)
	}
	for _, want := range []string{
		"config.json", "pid 1\n", "inside\n", "mkdir refused", "hello from", "memory:/demo",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_ = e
}
