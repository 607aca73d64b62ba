//go:build cgo

package seccomp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
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
// profile (but for which listener it names), no_new_privs, the running
// executable (device, inode, size, modification time: the code that
// compiles, libseccomp linked in included, so an upgrade starts afresh),
// libseccomp's version, API level and native architecture, the kernel's
// release and machine, and the entry's format. The directory is made
// 0700, and used only if it is this user's and nobody else may write to
// it; everything in it is done through one descriptor of it. An entry is
// written atomically (a temporary file renamed) and used only if it is a
// regular file of this user that nobody else may write and that decodes
// whole; anything else is compiled afresh and replaced.
type Cache struct {
	// Dir holds the entries; made if missing. Empty, nothing is cached.
	Dir string
}

// cacheFormat changes whenever what an entry holds, or how Compile turns
// a profile into a program, does: old entries are then never found.
const cacheFormat = "hako seccomp cache 1"

// maxEntries bounds the directory: past it, storing an entry first
// removes the entries there, and nothing else (a host has a handful of
// profiles in use).
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
	if kerr == nil {
		if dir, err := c.open(false); err == nil {
			f, skipped, err := readEntry(dir, key)
			dir.Close()
			if err == nil {
				return f, skipped, put, nil
			}
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

// open opens Dir (making it 0700 if create and it is missing) and checks
// it is private: this user's, writable by nobody else. Otherwise someone
// else could swap its entries.
func (c Cache) open(create bool) (*os.File, error) {
	if create {
		if err := os.MkdirAll(c.Dir, 0o700); err != nil {
			return nil, err
		}
	}
	fd, err := unix.Open(c.Dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: c.Dir, Err: err}
	}
	dir := os.NewFile(uintptr(fd), c.Dir)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Uid != uint32(os.Geteuid()) || st.Mode&0o022 != 0 {
		dir.Close()
		return nil, fmt.Errorf("seccomp cache %s: not a private directory", c.Dir)
	}
	return dir, nil
}

// cacheKey hashes everything the program depends on.
func cacheKey(p *specs.LinuxSeccomp, noNewPrivs bool) (string, error) {
	// Which listener, and what it is told, change nothing in the program;
	// whether there is one does (Compile refuses notify rules without).
	q := *p
	if q.ListenerPath != "" {
		q.ListenerPath = "set"
	}
	q.ListenerMetadata = ""
	profile, err := json.Marshal(&q)
	if err != nil {
		return "", err
	}
	var exe unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &exe); err != nil {
		return "", err
	}
	api, _ := libseccomp.GetAPI()
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return "", err
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d:%d:%d:%d.%d\x00%s\x00%d\x00%s\x00%s\x00%s\x00%t\x00", cacheFormat,
		exe.Dev, exe.Ino, exe.Size, exe.Mtim.Sec, exe.Mtim.Nsec, LibraryVersion(), api, native,
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

func readEntry(dir *os.File, key string) (*Filter, []string, error) {
	fd, err := unix.Openat(int(dir.Fd()), key, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	file := os.NewFile(uintptr(fd), key)
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

// isEntry tells the names store made: keys and temporary files.
func isEntry(name string) bool {
	if strings.HasPrefix(name, ".tmp-") {
		return true
	}
	_, err := hex.DecodeString(name)
	return err == nil && len(name) == 2*sha256.Size
}

// store writes the entry key atomically, through the directory's
// descriptor; errors are the caller's to ignore.
func (c Cache) store(key string, b []byte) error {
	dir, err := c.open(true)
	if err != nil {
		return err
	}
	defer dir.Close()
	dfd := int(dir.Fd())
	if names, err := dir.Readdirnames(-1); err == nil && len(names) >= maxEntries {
		for _, n := range names {
			if isEntry(n) {
				unix.Unlinkat(dfd, n, 0)
			}
		}
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := ".tmp-" + hex.EncodeToString(rnd[:])
	fd, err := unix.Openat(dfd, tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return &os.PathError{Op: "create", Path: tmp, Err: err}
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = unix.Renameat(dfd, tmp, dfd, key)
	}
	if err != nil {
		unix.Unlinkat(dfd, tmp, 0)
	}
	return err
}
