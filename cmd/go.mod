module hako.dev/cmd

go 1.26
