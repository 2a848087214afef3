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

// Twitch is a service: it connects (here: pretends to), says it is ready,
// and answers "isLive" commands from the clusters. The embedded bus.Mux
// makes it a bus.Handler: commands go to the typed functions registered on
// it.
type Twitch struct {
	bus.Mux
	live map[string]bool
}

// NewTwitch registers Twitch's commands, once: the same value serves
// every run of the service.
func NewTwitch() *Twitch {
	t := &Twitch{}
	bus.Handle(&t.Mux, "isLive", t.isLive)
	return t
}

// LiveQuery is the payload of "isLive".
type LiveQuery struct {
	Channel string `json:"channel"`
}

type LiveStatus struct {
	Channel string `json:"channel"`
	Live    bool   `json:"live"`
}

func (t *Twitch) Serve(ctx context.Context, sc *service.Context) error {
	t.live = map[string]bool{"megane": true} // connect, load state...
	sc.Logger().Info("connected")
	sc.Ready()
	<-ctx.Done()
	return nil
}

// isLive answers "isLive". It runs on the service's mailbox goroutine,
// after Serve has called Ready.
func (t *Twitch) isLive(_ context.Context, q LiveQuery) (LiveStatus, error) {
	return LiveStatus{Channel: q.Channel, Live: t.live[q.Channel]}, nil
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
	if err := reg.Add("twitch", NewTwitch(), service.WithReadyTimeout(time.Minute)); err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := reg.ServeBackground(ctx) // returns once the registry serves
	<-ready

	// What a cluster does: a typed request to the service's address.
	live, err := bus.Request[LiveStatus](ctx, b, bus.Cluster(0), bus.Service("twitch"), "isLive", LiveQuery{Channel: "megane"})
	fmt.Println(live, err)
	st := reg.Stats(ctx)[0]
	fmt.Println(st.Name, st.State, st.Restarts)

	// Stopping removes the service from the bus.
	if err := reg.Stop(ctx, "twitch"); err != nil {
		fmt.Println(err)
	}
	_, err = bus.Request[LiveStatus](ctx, b, bus.Cluster(0), bus.Service("twitch"), "isLive", nil)
	fmt.Println(errors.Is(err, bus.ErrNoTarget))

	cancel()
	fmt.Println(<-done)
	// Output:
	// {megane true} <nil>
	// twitch ready 0
	// true
	// <nil>
}

// A command sent as soon as ServeBackground returns is queued until the
// service is ready, then answered: no need to wait for Ready first.
func ExampleRegistry_ServeBackground() {
	b := bus.New()
	reg := services.NewRegistry(b, nil, services.WithLogger(slog.New(slog.DiscardHandler)))
	if err := reg.Add("twitch", NewTwitch()); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := reg.ServeBackground(ctx)

	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second) // how long to wait for Ready
	live, err := bus.Request[LiveStatus](rctx, b, bus.Cluster(0), bus.Service("twitch"), "isLive", LiveQuery{Channel: "megane"})
	rcancel()
	fmt.Println(live, err)

	cancel()
	fmt.Println(<-done)
	// Output:
	// {megane true} <nil>
	// <nil>
}
