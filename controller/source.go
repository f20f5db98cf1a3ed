package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-logr/logr"
)

// Source feeds a controller's queue: a store watch, a Docker event stream, a periodic
// listing. Start blocks until ctx is done, returning nil, or until the source fails. A
// source may also return nil early when it has nothing more to deliver (a one-shot listing, a
// closed channel). A source that fails stops the controller: Run returns its error, so that
// the process exits and a restart re-lists everything instead of running half-blind.
type Source interface {
	Start(ctx context.Context, enqueue func(Request)) error
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(ctx context.Context, enqueue func(Request)) error

// Start calls f.
func (f SourceFunc) Start(ctx context.Context, enqueue func(Request)) error {
	return f(ctx, enqueue)
}

// Channel returns a Source that enqueues every request received on ch, until ch is closed or
// ctx is done.
func Channel(ch <-chan Request) Source {
	return SourceFunc(func(ctx context.Context, enqueue func(Request)) error {
		for {
			select {
			case <-ctx.Done():
				return nil
			case req, ok := <-ch:
				if !ok {
					return nil
				}
				enqueue(req)
			}
		}
	})
}

// Ticker is a Source that enqueues every key List returns, once at start (the initial sync)
// and then every Period. It is the full resync: unlike Options.ResyncPeriod, which only
// revisits keys the controller has seen, it discovers objects whose events were missed.
type Ticker struct {
	// List returns the keys of every object that should be reconciled.
	List func(ctx context.Context) ([]Request, error)
	// Period between listings; zero lists once and returns.
	Period time.Duration
}

// Start lists, enqueues, and repeats every Period until ctx is done.
//
// A periodic listing that fails is logged and tried again on the next tick, since the other
// sources keep the controller useful meanwhile. A one-shot listing (Period zero) has no next
// tick, so its error is returned and stops the controller.
func (t Ticker) Start(ctx context.Context, enqueue func(Request)) error {
	if t.List == nil {
		return errors.New("ticker source has no List function")
	}
	if t.Period <= 0 {
		return t.list(ctx, enqueue)
	}
	log := logr.FromContextOrDiscard(ctx)
	tick := time.NewTicker(t.Period)
	defer tick.Stop()
	for {
		if err := t.list(ctx, enqueue); err != nil && ctx.Err() == nil {
			log.Error(err, "resync listing failed, retrying on next tick", "period", t.Period)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (t Ticker) list(ctx context.Context, enqueue func(Request)) error {
	reqs, err := t.List(ctx)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	for _, req := range reqs {
		enqueue(req)
	}
	return nil
}
