package container

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"golang.org/x/sys/unix"

	"hako.dev/capset"
	"hako.dev/cgctl"
	"hako.dev/seccomp"
)

// HostInfo is what `hako info` reports: the facts about this host and
// build that decide what containers can do here, the report a user
// pastes into a bug.
type HostInfo struct {
	Kernel      string          `json:"kernel"`
	OS          string          `json:"os"`
	Arch        string          `json:"arch"`
	CgroupMode  string          `json:"cgroupMode"`
	Hierarchies []HierarchyInfo `json:"hierarchies"`
	Namespaces  []string        `json:"namespaces"`
	Seccomp     SeccompInfo     `json:"seccomp"`
	AppArmor    bool            `json:"apparmor"`
	SELinux     bool            `json:"selinux"`
	IDMapMounts bool            `json:"idmappedMounts"`
	Pidfd       bool            `json:"pidfd"`
	Clone3      bool            `json:"clone3"`
	Build       BuildInfo       `json:"build"`
}

// HierarchyInfo is one mounted cgroup hierarchy.
type HierarchyInfo struct {
	Dir         string   `json:"dir"`
	Version     int      `json:"version"`
	Controllers []string `json:"controllers"`
}

// SeccompInfo says whether seccomp filters can be loaded, and how.
type SeccompInfo struct {
	Enabled        bool     `json:"enabled"`
	Flags          []string `json:"flags,omitempty"`
	LibraryVersion string   `json:"libseccomp,omitempty"`
}

// BuildInfo names the binary.
type BuildInfo struct {
	GoVersion string `json:"go"`
	Cgo       bool   `json:"cgo"`
}

// Info gathers HostInfo. Nothing it does changes the host.
func Info() HostInfo {
	var u unix.Utsname
	unix.Uname(&u)
	in := HostInfo{
		Kernel: unix.ByteSliceToString(u.Release[:]) + " " + unix.ByteSliceToString(u.Version[:]),
		OS:     osRelease(),
		Arch:   unix.ByteSliceToString(u.Machine[:]),
	}
	if mode, err := cgctl.DetectMode(cgctl.DefaultRoot); err == nil {
		in.CgroupMode = mode.String()
		if m, err := cgctl.New(cgctl.Config{Path: DefaultCgroupParent, Mode: mode}); err == nil {
			for _, h := range m.Hierarchies() {
				v := 1
				if h.Unified {
					v = 2
				}
				in.Hierarchies = append(in.Hierarchies, HierarchyInfo{Dir: h.Dir, Version: v, Controllers: h.Controllers})
			}
		}
	}
	for _, k := range []string{"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"} {
		if _, err := os.Stat("/proc/self/ns/" + k); err == nil {
			in.Namespaces = append(in.Namespaces, k)
		}
	}
	acts, _, _, flags := seccomp.Supported()
	in.Seccomp = SeccompInfo{Enabled: acts != nil && seccompOn(), Flags: flags, LibraryVersion: seccomp.LibraryVersion()}
	in.AppArmor, in.SELinux = capset.AppArmorEnabled(), capset.SELinuxEnabled()
	in.IDMapMounts = haveMountSetattr()
	if fd, err := unix.PidfdOpen(os.Getpid(), 0); err == nil {
		unix.Close(fd)
		in.Pidfd = true
	}
	in.Clone3 = haveClone3()
	in.Build.GoVersion = runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "CGO_ENABLED" {
				in.Build.Cgo = s.Value == "1"
			}
		}
	}
	return in
}

// seccompOn tells whether the kernel has seccomp filters.
func seccompOn() bool {
	_, err := unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
	return !errors.Is(err, unix.EINVAL)
}

func osRelease() string {
	f, err := os.Open("/etc/os-release")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
