package rootfs

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// copyTree keeps extended attributes (file capabilities travel as
// security.capability; user.* shows it without privileges), contents,
// modes, and copies a symlink as a symlink.
func TestCopyTreeXattrs(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "d"), 0o750); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(src, "d", "f")
	if err := os.WriteFile(f, []byte("data"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(f, "user.hako", []byte("kept"), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	unix.Setxattr(filepath.Join(src, "d"), "user.dir", []byte("too"), 0)
	if err := os.Symlink("/nowhere", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	s, _ := os.Open(src)
	d, _ := os.Open(dst)
	defer s.Close()
	defer d.Close()
	if err := copyTree(s, d); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := unix.Getxattr(filepath.Join(dst, "d", "f"), "user.hako", buf); err != nil || string(buf[:n]) != "kept" {
		t.Errorf("file xattr: %q, %v", buf[:n], err)
	}
	if n, err := unix.Getxattr(filepath.Join(dst, "d"), "user.dir", buf); err != nil || string(buf[:n]) != "too" {
		t.Errorf("directory xattr: %q, %v", buf[:n], err)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "d", "f")); string(b) != "data" {
		t.Errorf("content %q", b)
	}
	if st, err := os.Stat(filepath.Join(dst, "d", "f")); err != nil || st.Mode().Perm() != 0o640 {
		t.Errorf("mode: %v %v", st.Mode(), err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "/nowhere" {
		t.Errorf("link: %q %v", l, err)
	}
}
