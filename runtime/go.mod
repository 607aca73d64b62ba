module hako.dev/runtime

go 1.26
