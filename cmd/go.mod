module hako.dev/cmd

go 1.26.0

require (
	github.com/opencontainers/runtime-spec v1.3.0
	github.com/spf13/cobra v1.10.2
	golang.org/x/sys v0.50.0
	hako.dev/capset v0.0.0
	hako.dev/cgctl v0.0.0
	hako.dev/nsenter v0.0.0
	hako.dev/runtime v0.0.0
	hako.dev/seccomp v0.0.0
)

require (
	github.com/cpuguy83/go-md2man/v2 v2.0.6 // indirect
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	go.yaml.in/yaml/v3 v3.0.4 // indirect
)

require (
	github.com/cilium/ebpf v0.22.0 // indirect
	github.com/containerd/console v1.0.5
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/moby/sys/capability v0.5.0
	github.com/moby/sys/mountinfo v0.7.3 // indirect
	github.com/seccomp/libseccomp-golang v0.11.1 // indirect
	github.com/spf13/pflag v1.0.10
	hako.dev/console v0.0.0
	hako.dev/rootfs v0.0.0
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
