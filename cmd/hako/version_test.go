package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// dockerd runs `hako --version` at its start and on `docker info`, and
// reads "NAME version V" and "commit: C" from it, as it does runc's.
func TestVersion(t *testing.T) {
	want := "hako version " + version + "\ncommit: " + commit + "\nspec: " + specs.Version + "\n"
	for _, flag := range []string{"--version", "-v"} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout := os.Stdout
		os.Stdout = w
		code := execute([]string{flag})
		os.Stdout = stdout
		w.Close()
		out, _ := io.ReadAll(r)
		r.Close()
		if code != 0 || string(out) != want {
			t.Errorf("hako %s: exit %d, printed %q, want %q", flag, code, out, want)
		}
	}
}

// A call of reflect.Value.Method or MethodByName anywhere in the binary
// (text/template's Execute has them: cobra's templates set with
// SetVersionTemplate or SetUsageTemplate bring it in) makes the linker
// keep every exported method of every type: 1.5 MB more, and ~100 page
// faults more at each of hako's starts. Built with cgo and the release
// build's tags (the C parts and libseccomp's bindings in), but linked
// the default way.
func TestNoReflectiveMethodCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler: the binary is built with cgo")
	}
	bin := filepath.Join(t.TempDir(), "hako")
	build := exec.Command("go", "build", "-tags", "netgo,osusergo", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[1] == "T" && (f[2] == "reflect.Value.Method" || f[2] == "reflect.Value.MethodByName") {
			t.Errorf("the binary links %s: something calls methods by reflection (text/template?)", f[2])
		}
	}
}
