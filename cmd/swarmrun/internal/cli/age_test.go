package cli

import (
	"testing"
	"time"
)

func TestAge(t *testing.T) {
	now := time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "<unknown>"},
		{now.Add(time.Second), "0s"},
		{now.Add(-90 * time.Second), "90s"},
		{now.Add(-90 * time.Minute), "90m"},
		{now.Add(-47 * time.Hour), "47h"},
		{now.Add(-72 * time.Hour), "3d"},
	} {
		if got := Age(now, tt.t); got != tt.want {
			t.Errorf("Age(%s) = %q, want %q", now.Sub(tt.t), got, tt.want)
		}
	}
}

func TestShortCommit(t *testing.T) {
	for in, want := range map[string]string{"": "-", "abc": "abc", "0123456789abcdef": "01234567"} {
		if got := ShortCommit(in); got != want {
			t.Errorf("ShortCommit(%q) = %q, want %q", in, got, want)
		}
	}
}
