package container

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

func digest(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return h.Sum(nil)
}

// Both ways of sealing give the very binary, and nothing can be written
// through them: EROFS through the overlay, EPERM through the memfd seals.
func TestSealedExe(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (overlayfs)")
	}
	exe, _ := os.Readlink("/proc/self/exe")
	want := digest(t, exe)
	for _, tc := range []struct {
		name string
		open func(string) (int, error)
		errs []error
	}{
		{"overlay", func(exe string) (int, error) { return overlayExe(exe, filepath.Join(t.TempDir(), "empty")) }, []error{unix.EROFS}},
		// An empty directory inside the binary's own overlaps it: the
		// fallback layer, a detached tmpfs, serves.
		{"overlay, overlapping empty directory", func(exe string) (int, error) {
			d := filepath.Join(filepath.Dir(exe), "empty-overlap")
			defer os.Remove(d)
			return overlayExe(exe, d)
		}, []error{unix.EROFS}},
		{"memfd", memfdExe, []error{unix.EPERM}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fd, err := tc.open(exe)
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.ENODEV) {
				t.Skipf("the kernel refuses: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			p := "/proc/self/fd/" + strconv.Itoa(fd)
			if got := digest(t, p); !bytes.Equal(got, want) {
				t.Errorf("sealed binary differs from %s", exe)
			}
			for _, flags := range []int{os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC} {
				f, err := os.OpenFile(p, flags, 0)
				if err == nil {
					// A sealed memfd opens, but refuses every change.
					_, err = f.Write([]byte("x"))
					f.Close()
					if err == nil {
						t.Fatalf("wrote to the sealed binary (flags %#x)", flags)
					}
				}
				ok := false
				for _, e := range tc.errs {
					ok = ok || errors.Is(err, e)
				}
				if !ok {
					t.Errorf("open for writing: %v, want %v", err, tc.errs)
				}
			}
		})
	}
	if got := digest(t, exe); !bytes.Equal(got, want) {
		t.Error("the binary changed")
	}
}

func BenchmarkSealOverlay(b *testing.B) {
	exe, _ := os.Readlink("/proc/self/exe")
	empty := filepath.Join(b.TempDir(), "empty")
	for i := 0; i < b.N; i++ {
		fd, err := overlayExe(exe, empty)
		if err != nil {
			b.Skip(err)
		}
		unix.Close(fd)
	}
}

func BenchmarkSealMemfd(b *testing.B) {
	exe, _ := os.Readlink("/proc/self/exe")
	for i := 0; i < b.N; i++ {
		fd, err := memfdExe(exe)
		if err != nil {
			b.Skip(err)
		}
		unix.Close(fd)
	}
}
