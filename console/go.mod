module hako.dev/console

go 1.26
