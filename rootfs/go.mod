module hako.dev/rootfs

go 1.26
