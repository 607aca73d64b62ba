// Package rootfs builds a container's root filesystem inside a private mount
// namespace: it makes the host's mounts unreachable from it (propagation),
// mounts what the OCI config lists (mount(2), mount_setattr(2), idmapped
// trees), populates /dev (mknod(2)), switches the root with pivot_root(2),
// then masks and write-protects what the config names.
//
// Plan turns a config into ordered steps without touching the machine (so
// they can be tested and printed, see Shell); Prepare performs the steps up
// to the root switch and Finish the rest.
//
// Every destination is resolved inside the root filesystem with openat2(2)
// and RESOLVE_IN_ROOT, and mounted onto the file descriptor it resolved to:
// a symlink planted in the image (say /proc -> /host/proc) is followed as if
// the root filesystem were "/", so it can never redirect a mount onto the host.
//
// When not to use it: in a process that shares its mount namespace with the
// host. Prepare changes the propagation of "/" and mounts over the rootfs;
// call it in a fresh mount namespace (unshare(CLONE_NEWNS)) only.
package rootfs
