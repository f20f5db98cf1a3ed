package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestTickerListsAtStartAndEveryPeriod(t *testing.T) {
	rec := newRecorder(nil)
	c := New(rec, Options{})
	var (
		mu    sync.Mutex
		lists int
	)
	src := Ticker{Period: 10 * time.Millisecond, List: func(context.Context) ([]Request, error) {
		mu.Lock()
		defer mu.Unlock()
		lists++
		if lists == 2 { // a failed listing is retried on the next tick
			return nil, errors.New("store busy")
		}
		return []Request{key("a"), key("b")}, nil
	}}
	start(t, c, src)
	eventually(t, "three reconciles of each listed key", func() bool {
		return rec.count(key("a")) >= 3 && rec.count(key("b")) >= 3
	})
}

func TestSourcesFeedAndFail(t *testing.T) {
	errWatch := errors.New("watch closed")
	tests := []struct {
		name     string
		source   func(ch chan Request) Source
		wantErr  error // nil: Run keeps going until stopped
		anyError bool
	}{
		{name: "channel", source: func(ch chan Request) Source { return Channel(ch) }},
		{name: "closed channel ends only the source", source: func(chan Request) Source {
			own := make(chan Request, 1)
			own <- key("a")
			close(own)
			return Channel(own)
		}},
		{name: "one-shot listing", source: func(chan Request) Source {
			return Ticker{List: func(context.Context) ([]Request, error) { return []Request{key("a")}, nil }}
		}},
		{name: "failed one-shot listing stops the controller", wantErr: errWatch, source: func(chan Request) Source {
			return Ticker{List: func(context.Context) ([]Request, error) { return nil, errWatch }}
		}},
		{name: "failed source stops the controller", wantErr: errWatch, source: func(chan Request) Source {
			return SourceFunc(func(context.Context, func(Request)) error { return errWatch })
		}},
		{name: "ticker without list", anyError: true, source: func(chan Request) Source { return Ticker{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(nil)
			c := New(rec, Options{})
			ch := make(chan Request)
			src := tt.source(ch)
			if tt.wantErr != nil || tt.anyError {
				err := c.Run(t.Context(), src)
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("Run = %v, want %v", err, tt.wantErr)
				}
				return
			}
			stop := start(t, c, src)
			select {
			case ch <- key("a"):
			case <-time.After(10 * time.Millisecond): // sources that do not read ch
			}
			eventually(t, "the reconcile of a", func() bool { return rec.count(key("a")) == 1 })
			// The controller is still working after its source is done.
			c.Enqueue(key("b"))
			eventually(t, "the reconcile of b", func() bool { return rec.count(key("b")) == 1 })
			if err := stop(); err != nil {
				t.Errorf("Run = %v, want nil", err)
			}
		})
	}
}
