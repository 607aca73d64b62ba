module hako.dev/integration

go 1.26.0

require (
	github.com/containerd/console v1.0.5
	github.com/opencontainers/runtime-spec v1.3.0
	github.com/seccomp/libseccomp-golang v0.11.1
	golang.org/x/sys v0.50.0
	hako.dev/runtime v0.0.0
)

require (
	github.com/cilium/ebpf v0.22.0 // indirect
	github.com/moby/sys/capability v0.5.0 // indirect
	github.com/moby/sys/mountinfo v0.7.3 // indirect
	hako.dev/capset v0.0.0 // indirect
	hako.dev/cgctl v0.0.0 // indirect
	hako.dev/console v0.0.0 // indirect
	hako.dev/nsenter v0.0.0 // indirect
	hako.dev/rootfs v0.0.0 // indirect
	hako.dev/seccomp v0.0.0 // indirect
)

replace (
	hako.dev/capset => ../capset
	hako.dev/cgctl => ../cgctl
	hako.dev/console => ../console
	hako.dev/nsenter => ../nsenter
	hako.dev/rootfs => ../rootfs
	hako.dev/runtime => ../runtime
	hako.dev/seccomp => ../seccomp
)
