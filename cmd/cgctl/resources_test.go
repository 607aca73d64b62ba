package main

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1024": 1024, "512k": 512 << 10, "64M": 64 << 20, "64MB": 64 << 20, "1G": 1 << 30, "1.5g": 3 << 29,
		"2T": 2 << 40, "max": -1, "-1": -1, " 8m ": 8 << 20,
	} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "12Q", "-5", "M", "1..2G", "nan", "inf", "99999999999G"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}
