package rootfs

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// A rootfs whose entries are symlinks out of it: every helper must stay
// inside (the symlink is followed as if the rootfs were "/").
func TestResolveStaysInRoot(t *testing.T) {
	host := t.TempDir() // stands for the host: must stay untouched
	rootfs := t.TempDir()
	for name, target := range map[string]string{
		"proc":    host,                     // absolute link to a host path
		"dev":     "../../../../../" + host, // relative climb
		"etc":     "/host-etc",
		"console": "/dev/console",
	} {
		if err := os.Symlink(target, filepath.Join(rootfs, name)); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenFile(rootfs, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()

	for _, p := range []string{"/proc", "/dev/sub", "etc/x"} {
		f, err := mkdirIn(root, p, 0o755)
		if err != nil {
			t.Fatalf("mkdirIn(%s): %v", p, err)
		}
		f.Close()
	}
	f, err := createFileIn(root, "/console", 0o600)
	if err != nil {
		t.Fatalf("createFileIn: %v", err)
	}
	f.Close()
	if ents, _ := os.ReadDir(host); len(ents) != 0 {
		t.Errorf("host dir got %v", ents)
	}
	// What was made landed inside the rootfs, under the link's target name.
	for _, p := range []string{"tmp", "host-etc/x", "dev"} {
		if _, err := os.Lstat(filepath.Join(rootfs, p)); err != nil {
			t.Errorf("%s not made inside the rootfs: %v", p, err)
		}
	}
	if _, err := openIn(root, "/proc/self/root", unix.O_PATH); err == nil {
		t.Error("magic link resolved")
	}
}
