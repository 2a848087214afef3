package services_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/internal/services"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
)

// live is a service that answers "isLive" (is a channel live?) once it
// is ready; package service's example has a fuller one.
type live struct{ bus.Mux }

func newLive() *live {
	l := &live{}
	bus.Handle(&l.Mux, "isLive", func(_ context.Context, channel string) (bool, error) { return channel == "megane", nil })
	return l
}

func (l *live) Serve(ctx context.Context, sc *service.Context) error {
	sc.Ready()
	<-ctx.Done()
	return nil
}

func Example() {
	b := bus.New()
	ready := make(chan struct{}, 1)
	reg := services.NewRegistry(b, nil,
		services.WithLogger(slog.New(slog.DiscardHandler)),
		services.WithEventHook(func(e supervisor.Event) {
			if e.To == supervisor.StateReady {
				select {
				case ready <- struct{}{}:
				default:
				}
			}
		}))
	if err := reg.Add("twitch", newLive(), service.WithReadyTimeout(time.Minute)); err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := reg.ServeBackground(ctx) // returns once the registry serves
	<-ready

	// What a cluster does: a typed request to the service's address.
	isLive, err := bus.Request[bool](ctx, b, bus.Cluster(0), bus.Service("twitch"), "isLive", "megane")
	fmt.Println(isLive, err)
	st := reg.Stats(ctx)[0]
	fmt.Println(st.Name, st.State, st.Restarts)

	// Stopping removes the service from the bus.
	if err := reg.Stop(ctx, "twitch"); err != nil {
		fmt.Println(err)
	}
	_, err = bus.Request[bool](ctx, b, bus.Cluster(0), bus.Service("twitch"), "isLive", "megane")
	fmt.Println(errors.Is(err, bus.ErrNoTarget))

	cancel()
	fmt.Println(<-done)
	// Output:
	// true <nil>
	// twitch ready 0
	// true
	// <nil>
}

// A command sent as soon as ServeBackground returns is queued until the
// service is ready, then answered: no need to wait for Ready first.
func ExampleRegistry_ServeBackground() {
	b := bus.New()
	reg := services.NewRegistry(b, nil, services.WithLogger(slog.New(slog.DiscardHandler)))
	if err := reg.Add("twitch", newLive()); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := reg.ServeBackground(ctx)

	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second) // how long to wait for Ready
	isLive, err := bus.Request[bool](rctx, b, bus.Cluster(0), bus.Service("twitch"), "isLive", "megane")
	rcancel()
	fmt.Println(isLive, err)

	cancel()
	fmt.Println(<-done)
	// Output:
	// true <nil>
	// <nil>
}
