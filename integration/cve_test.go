package integration

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func fileDigest(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return h.Sum(nil)
}

// CVE-2019-5736: whoever gets hold of /proc/<pid>/exe of hako's process
// inside a container (its init before the program runs, or an exec's)
// must not be able to write hako's binary, then or later. Here the worst
// case: root on the host grabs the init's exe with O_PATH while it waits
// for start (a container process could not even do that: the init is
// non-dumpable), and reopens it for writing once hako is gone; and a
// container keeps trying to write every /proc/*/exe it sees while execs
// come and go.
func TestBinaryProtected(t *testing.T) {
	e := newEnv(t)
	before := fileDigest(t, hakoBin)
	id := e.id("cve")
	loop := `while :; do for p in /proc/[0-9]*/exe; do (echo x >> $p) 2>/dev/null; done; done`
	e.mustHako("create", "--bundle", e.bundle([]string{"sh", "-c", loop}, nil), id)
	pid := e.state(id).Pid
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	e.mustHako("start", id)
	for i := 0; i < 20; i++ {
		e.mustHako("exec", id, "true")
	}
	// hako's processes are all gone: only the O_PATH handle remains.
	f, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", fd), os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		_, err = f.Write([]byte("pwned"))
		f.Close()
	}
	if err == nil {
		t.Error("wrote through the init's /proc/<pid>/exe")
	}
	e.mustHako("kill", id, "KILL")
	e.waitStatus(id, "stopped")
	e.mustHako("delete", id)
	if !bytes.Equal(fileDigest(t, hakoBin), before) {
		t.Fatal("hako's binary changed")
	}
}

// TestExecFifoNotThroughImage: the waiting init reopens its exec fifo
// through /proc/self/fd; without a proc mount that path is the image's,
// which may hold anything there. Both inits check that what opened is
// the fifo they hold and write nothing otherwise: start fails, the
// image's file stays as it was.
func TestExecFifoNotThroughImage(t *testing.T) {
	e := newEnv(t)
	for _, goInit := range []bool{false, true} {
		bundle := e.bundle([]string{"true"}, func(s *specs.Spec) {
			withoutProc(s)
			s.Root.Readonly = false // nothing after pivot_root needs /proc
			if goInit {
				goInitOnly(s)
			}
		})
		planted := filepath.Join(bundle, "rootfs/proc/self/fd/4")
		if err := os.MkdirAll(filepath.Dir(planted), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(planted, nil, 0o666); err != nil {
			t.Fatal(err)
		}
		id := e.id("fifo-image")
		// The Go init cannot even read its capabilities without /proc:
		// its create fails first.
		if r := e.hako("create", "--bundle", bundle, id); r.code != 0 {
			if !goInit {
				t.Fatalf("create (init without Go): %+v", r)
			}
		} else {
			r := e.hako("start", id)
			if r.code == 0 {
				t.Errorf("start (Go init %v) with the image's /proc/self/fd/4: %+v, want a failure", goInit, r)
			}
		}
		e.hako("delete", "--force", id)
		if b, err := os.ReadFile(planted); err != nil || len(b) != 0 {
			t.Errorf("the image's /proc/self/fd/4 (Go init %v): %q, %v; want it untouched", goInit, b, err)
		}
	}
}
