module hako.dev/capset

go 1.26
