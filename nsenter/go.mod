module hako.dev/nsenter

go 1.26.0
