package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/supervisor"
)

// Twitch is a service: it connects (here: pretends to), says it is ready,
// and answers "isLive" commands from the clusters.
type Twitch struct{ live map[string]bool }

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

func (t *Twitch) HandleCommand(ctx context.Context, name string, payload json.RawMessage) (any, error) {
	switch name {
	case "isLive":
		var req struct{ Channel string }
		if err := json.Unmarshal(payload, &req); err != nil {
			return nil, err
		}
		return LiveStatus{Channel: req.Channel, Live: t.live[req.Channel]}, nil
	}
	return nil, fmt.Errorf("unknown command %q", name)
}

func Example() {
	b := bus.New()
	ready := make(chan struct{}, 1)
	reg := service.NewRegistry(b, nil,
		service.WithLogger(slog.New(slog.DiscardHandler)),
		service.WithEventHook(func(e supervisor.Event) {
			if e.To == supervisor.StateReady {
				select {
				case ready <- struct{}{}:
				default:
				}
			}
		}))
	if err := reg.Add("twitch", &Twitch{}, service.WithReadyTimeout(time.Minute)); err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := reg.ServeBackground(ctx) // returns once the registry serves
	<-ready

	// What a cluster does: a typed request to the service's address.
	live, err := service.Command[LiveStatus](ctx, b, bus.Cluster(0), "twitch", "isLive", map[string]string{"Channel": "megane"})
	fmt.Println(live, err)
	st := reg.Stats(ctx)[0]
	fmt.Println(st.Name, st.State, st.Restarts)

	// Stopping removes the service from the bus.
	if err := reg.Stop(ctx, "twitch"); err != nil {
		fmt.Println(err)
	}
	_, err = service.Command[LiveStatus](ctx, b, bus.Cluster(0), "twitch", "isLive", nil)
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
	reg := service.NewRegistry(b, nil, service.WithLogger(slog.New(slog.DiscardHandler)))
	if err := reg.Add("twitch", &Twitch{}); err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := reg.ServeBackground(ctx)

	rctx, rcancel := context.WithTimeout(ctx, 10*time.Second) // how long to wait for Ready
	live, err := service.Command[LiveStatus](rctx, b, bus.Cluster(0), "twitch", "isLive", map[string]string{"Channel": "megane"})
	rcancel()
	fmt.Println(live, err)

	cancel()
	fmt.Println(<-done)
	// Output:
	// {megane true} <nil>
	// <nil>
}
