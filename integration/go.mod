module hako.dev/integration

go 1.26
