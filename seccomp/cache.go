//go:build cgo

package seccomp

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Cache keeps compiled filters in a directory, so that a profile is
// compiled once, not at every container start: libseccomp takes ~12 ms for
// a container engine's default profile on a small VM (4 to add the rules,
// 8 to export the program), more than the rest of a start. Every
// container of Docker, containerd or podman brings the same one.
//
// An entry is named by the SHA-256 of all that decides the program: the
// profile, no_new_privs, libseccomp's version and API level, the kernel's
// release and machine, and the entry's format. It is written atomically
// (a temporary file renamed) and used only if it is a regular file of
// this user that nobody else may write and that decodes whole; anything
// else is compiled afresh and replaced. The directory is made 0700.
type Cache struct {
	// Dir holds the entries; made if missing. Empty, nothing is cached.
	Dir string
}

// cacheFormat changes whenever what an entry holds, or how Compile turns
// a profile into a program, does: old entries are then never found.
const cacheFormat = "hako seccomp cache 1"

// maxEntries bounds the directory: past it, storing an entry first
// clears the others (a host has a handful of profiles in use).
const maxEntries = 64

// Compile is the package's Compile through the cache: a profile compiled
// before comes back from its entry (the Filter then has no pseudo-C, see
// UnmarshalFilter), with the same skipped names; one compiled now is
// stored at once. The cache failing (a read-only directory, say) never
// fails Compile: it compiles.
func (c Cache) Compile(p *specs.LinuxSeccomp, noNewPrivs bool) (f *Filter, skipped []string, err error) {
	f, skipped, put, err := c.Get(p, noNewPrivs)
	if err == nil {
		put()
	}
	return f, skipped, err
}

// Get is Compile that leaves the storing of a new entry to put (a no-op
// when the filter came from the cache), for a caller that keeps it only
// if what it compiled the filter for succeeds.
func (c Cache) Get(p *specs.LinuxSeccomp, noNewPrivs bool) (f *Filter, skipped []string, put func(), err error) {
	put = func() {}
	if c.Dir == "" {
		f, skipped, err = Compile(p, noNewPrivs)
		return f, skipped, put, err
	}
	key, kerr := cacheKey(p, noNewPrivs)
	if kerr == nil && !c.private() {
		kerr = errors.New("cache directory not private")
	}
	if kerr == nil {
		if f, skipped, err := readEntry(filepath.Join(c.Dir, key)); err == nil {
			return f, skipped, put, nil
		}
	}
	f, skipped, err = Compile(p, noNewPrivs)
	if err != nil || kerr != nil {
		return f, skipped, put, err
	}
	if b, err := f.MarshalBinary(); err == nil {
		put = func() { c.store(key, entry(b, skipped)) } // best effort: see Compile
	}
	return f, skipped, put, nil
}

// private tells whether Dir is missing (store makes it 0700) or a
// directory of this user that nobody else may write: otherwise someone
// else could rename one entry over another.
func (c Cache) private() bool {
	var st unix.Stat_t
	err := unix.Lstat(c.Dir, &st)
	if errors.Is(err, unix.ENOENT) {
		return true
	}
	return err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Uid == uint32(os.Geteuid()) && st.Mode&0o022 == 0
}

// cacheKey hashes everything the program depends on.
func cacheKey(p *specs.LinuxSeccomp, noNewPrivs bool) (string, error) {
	profile, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	api, _ := libseccomp.GetAPI()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s\x00%s\x00%t\x00", cacheFormat, LibraryVersion(), api,
		unix.ByteSliceToString(u.Release[:]), unix.ByteSliceToString(u.Machine[:]), noNewPrivs)
	h.Write(profile)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// An entry is: u32 length of the stored filter, the stored filter
// (MarshalBinary), then the skipped syscall names, one per line.
func entry(filter []byte, skipped []string) []byte {
	b := binary.NativeEndian.AppendUint32(nil, uint32(len(filter)))
	b = append(b, filter...)
	return append(b, strings.Join(skipped, "\n")...)
}

// maxEntry bounds what readEntry reads: a stored filter of BPF_MAXINSNS
// and a long list of skipped names fit.
const maxEntry = 1 << 20

func readEntry(path string) (*Filter, []string, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	file := os.NewFile(uintptr(fd), path)
	defer file.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Uid != uint32(os.Geteuid()) || st.Mode&0o022 != 0 {
		return nil, nil, errors.New("not a private regular file")
	}
	b, err := io.ReadAll(io.LimitReader(file, maxEntry+1))
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 4 || len(b) > maxEntry {
		return nil, nil, errors.New("bad size")
	}
	n := binary.NativeEndian.Uint32(b)
	if uint64(n) > uint64(len(b)-4) {
		return nil, nil, errors.New("truncated")
	}
	f, err := UnmarshalFilter(b[4 : 4+n])
	if err != nil {
		return nil, nil, err
	}
	var skipped []string
	if rest := string(b[4+n:]); rest != "" {
		skipped = strings.Split(rest, "\n")
	}
	return f, skipped, nil
}

// store writes the entry key atomically; errors are the caller's to
// ignore.
func (c Cache) store(key string, b []byte) error {
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return err
	}
	if ents, err := os.ReadDir(c.Dir); err == nil && len(ents) >= maxEntries {
		for _, e := range ents {
			os.Remove(filepath.Join(c.Dir, e.Name()))
		}
	}
	tmp, err := os.CreateTemp(c.Dir, ".tmp-")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(c.Dir, key))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
