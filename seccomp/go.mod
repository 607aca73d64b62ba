module hako.dev/seccomp

go 1.26.0
