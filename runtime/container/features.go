package container

import (
	"errors"
	"os"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"golang.org/x/sys/unix"

	"hako.dev/capset"
	"hako.dev/cgctl"
	"hako.dev/rootfs"
	"hako.dev/seccomp"
)

// Features reports what this build on this host supports, in the OCI
// features document's shape (`hako features`): each answer comes from the
// same tables the code uses, and host-dependent ones (cgroup layout, LSMs)
// from the host.
func Features() *features.Features {
	yes, no := true, false
	b := func(v bool) *bool {
		if v {
			return &yes
		}
		return &no
	}
	mode, _ := cgctl.DetectMode(cgctl.DefaultRoot)
	acts, ops, archs, flags := seccomp.Supported()
	_, rdma := os.Stat(cgctl.DefaultRoot + "/rdma")
	var ns []string
	for t := range nsKinds {
		ns = append(ns, string(t))
	}
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  rootfs.MountOptions(),
		Linux: &features.Linux{
			Namespaces:   sortedStrings(ns),
			Capabilities: capset.Known(),
			Cgroup: &features.Cgroup{
				V1: b(mode == cgctl.Legacy || mode == cgctl.Hybrid), V2: b(mode == cgctl.Unified || mode == cgctl.Hybrid),
				Systemd: &no, SystemdUser: &no, Rdma: b(rdma == nil || mode == cgctl.Unified),
			},
			Seccomp: &features.Seccomp{
				Enabled: b(acts != nil), Actions: acts, Operators: ops, Archs: archs,
				KnownFlags: flags, SupportedFlags: flags,
			},
			Apparmor:        &features.Apparmor{Enabled: b(capset.AppArmorEnabled())},
			Selinux:         &features.Selinux{Enabled: b(capset.SELinuxEnabled())},
			IntelRdt:        &features.IntelRdt{Enabled: &no},
			MemoryPolicy:    &features.MemoryPolicy{Modes: capset.MemoryPolicyModes(), Flags: capset.MemoryPolicyFlags()},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: b(haveMountSetattr())}},
			NetDevices:      &features.NetDevices{Enabled: &no},
		},
	}
}

// haveMountSetattr probes for mount_setattr(2) (Linux 5.12), which
// idmapped and recursive-attribute mounts need: on a bad fd a kernel
// that has it says EBADF.
func haveMountSetattr() bool {
	return !errors.Is(unix.MountSetattr(-1, "", 0, &unix.MountAttr{}), unix.ENOSYS)
}

func sortedStrings(s []string) []string {
	sort.Strings(s)
	return s
}
