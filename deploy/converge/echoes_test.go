package converge

import (
	"testing"
	"time"
)

func TestEchoes(t *testing.T) {
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	tests := []struct {
		name     string
		lastLook time.Time
		event    time.Time
		// looks are the times of the looks that follow, each made when due; want lists the
		// next due time after each (zero: no more echoes).
		want []time.Time
	}{
		{
			name:     "a quiet event: look now, then at doubling delays up to the last",
			lastLook: ms(0), event: ms(500),
			want: []time.Time{ms(500), ms(520), ms(560), ms(640), ms(800), ms(1120), ms(1760), {}},
		},
		{
			name:     "an event right after a look waits for the minimum gap",
			lastLook: ms(0), event: ms(3),
			want: []time.Time{ms(10), ms(30), ms(70), ms(150), ms(310), ms(630), ms(1270), {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e echoes
			e.event(tt.event, tt.lastLook)
			for i, want := range tt.want {
				if !e.at.Equal(want) {
					t.Fatalf("echo %d due at %v, want %v", i, e.at.Sub(t0), want.Sub(t0))
				}
				if want.IsZero() {
					return
				}
				e.looked(e.at)
			}
		})
	}
}

func TestEchoesIgnoreEarlyLooks(t *testing.T) {
	var e echoes
	e.event(at(time.Second), at(0))
	e.looked(at(500 * time.Millisecond)) // a poll before the echo was due
	if !e.at.Equal(at(time.Second)) {
		t.Errorf("echo moved to %v by an earlier look", e.at.Sub(t0))
	}
	var idle echoes
	idle.looked(at(time.Second))
	if !idle.at.IsZero() {
		t.Errorf("echo scheduled without an event: %v", idle.at)
	}
}
