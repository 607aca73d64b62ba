package integration

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"

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
