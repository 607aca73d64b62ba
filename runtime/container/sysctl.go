package container

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ipcSysctls are the non-net sysctls that belong to an IPC namespace
// (ipc_namespaces(7)); fs.mqueue.* too.
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// checkSysctls refuses a sysctl that is not namespaced, or whose namespace
// the container shares with the host: writing it would change the host.
func checkSysctls(s *specs.Spec) error {
	for key := range s.Linux.Sysctl {
		if key == "" || strings.ContainsAny(key, "/ ") || strings.Contains(key, "..") {
			return fmt.Errorf("config: sysctl %q: not a sysctl name", key)
		}
		var ns specs.LinuxNamespaceType
		switch {
		case ipcSysctls[key] || strings.HasPrefix(key, "fs.mqueue."):
			ns = specs.IPCNamespace
		case strings.HasPrefix(key, "net."):
			ns = specs.NetworkNamespace
		case key == "kernel.hostname" || key == "kernel.domainname":
			ns = specs.UTSNamespace
		default:
			return fmt.Errorf("config: sysctl %q is not namespaced: setting it would change the host", key)
		}
		if !hasNS(s, ns) || joinsHostNS(s, ns) {
			return fmt.Errorf("config: sysctl %q needs the container's own %s namespace", key, ns)
		}
	}
	return nil
}

// setSysctls writes the config's sysctls through the container's own
// /proc, before /proc/sys turns read-only. /proc must be a procfs (the
// config's proc mount): an image's /proc could lead the writes anywhere
// in the container's files. Sorted, so that errors are reproducible.
func setSysctls(sysctl map[string]string) error {
	var st unix.Statfs_t
	if fi, err := os.Lstat("/proc"); err != nil || !fi.IsDir() || unix.Statfs("/proc", &st) != nil || st.Type != unix.PROC_SUPER_MAGIC {
		return errors.New("set sysctls: /proc in the container is not procfs: linux.sysctl needs the config to mount proc at /proc")
	}
	keys := make([]string, 0, len(sysctl))
	for k := range sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(p, []byte(sysctl[k]), 0); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("set sysctl %s=%q: %w", k, sysctl[k], err)
		}
	}
	return nil
}

// joinsHostNS tells whether the config joins, by path, the very namespace
// of type t that this process (the host's side) is in: setting a sysctl
// there would set it on the host.
func joinsHostNS(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	proc := map[specs.LinuxNamespaceType]string{specs.IPCNamespace: "ipc", specs.NetworkNamespace: "net", specs.UTSNamespace: "uts"}[t]
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != t || ns.Path == "" {
			continue
		}
		var a, b unix.Stat_t
		if unix.Stat(ns.Path, &a) != nil || unix.Stat("/proc/self/ns/"+proc, &b) != nil {
			return true // cannot tell: refuse
		}
		return a.Dev == b.Dev && a.Ino == b.Ino
	}
	return false
}
