package controller_test

import (
	"context"
	"fmt"
	"time"

	"github.com/swarmrun/swarmrun/controller"
)

// A controller fed by an initial listing, a periodic full resync and an event stream that
// reports the labels of swarm objects.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	reconciled := make(chan controller.Request)
	c := controller.New(controller.ReconcilerFunc(func(ctx context.Context, req controller.Request) (controller.Result, error) {
		reconciled <- req
		return controller.Result{}, nil
	}), controller.Options{Name: "testruns", Workers: 1})

	listing := controller.Ticker{
		Period: 10 * time.Minute,
		List: func(context.Context) ([]controller.Request, error) {
			return []controller.Request{{Kind: "TestRun", Name: "disc-pr4"}}, nil
		},
	}
	events := make(chan controller.Request, 1)
	onLabels := controller.LabelMapper("swarmrun.dev/testrun", "TestRun").Handler(func(r controller.Request) {
		events <- r
	})

	done := make(chan error)
	go func() { done <- c.Run(ctx, listing, controller.Channel(events)) }()

	fmt.Println(<-reconciled)
	onLabels(map[string]string{"swarmrun.dev/testrun": "disc-pr5"}) // a service of disc-pr5 changed
	fmt.Println(<-reconciled)
	cancel()
	fmt.Println(<-done)
	// Output:
	// TestRun/disc-pr4
	// TestRun/disc-pr5
	// <nil>
}
