// Package cgctl drives Linux control groups through their filesystem: it
// creates a cgroup, moves processes into it, writes resource limits, lists its
// processes and removes it again. The same Manager works on the three layouts a
// host can have:
//
//   - legacy: one cgroup v1 hierarchy per controller (or group of controllers)
//     mounted under /sys/fs/cgroup/<name>;
//   - hybrid: the v1 hierarchies plus a cgroup2 mount at /sys/fs/cgroup/unified
//     (which may itself hold controllers, such as hugetlb);
//   - unified: one cgroup2 hierarchy mounted at /sys/fs/cgroup.
//
// Each resource is written to the hierarchy that actually has its controller.
// See cgroups(7), the kernel's Documentation/admin-guide/cgroup-v1 and
// cgroup-v2.rst for the files involved.
//
// When not to use it: on hosts where systemd owns the cgroup tree and expects
// to be asked (via D-Bus) for every cgroup, writing to the tree directly works
// but systemd may later move or remove what it does not know about.
package cgctl
