package service_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/bus"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/service"
	"github.com/megane-go/megane/shard"
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

// bot is the example's worker; it does nothing.
type bot struct{}

func (bot) Launch(context.Context, *cluster.Cluster) error { return nil }

// The Manager runs services: register them with megane.WithService (or
// m.AddService), then reach them over the bus by name.
func Example() {
	fake, err := discordtest.Start(discordtest.WithShards(1), discordtest.WithIdentifyWindow(10*time.Millisecond),
		discordtest.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	ready, twitchReady := make(chan struct{}), make(chan struct{}, 1)
	m, err := megane.New(fake.Token(),
		megane.WithWorker(func() cluster.Worker { return bot{} }),
		megane.WithAPIURL(fake.APIURL()),
		megane.WithQueueOptions(shard.WithIdentifyWindow(fake.IdentifyWindow()), shard.WithIdentifyMargin(20*time.Millisecond)),
		megane.WithLogger(slog.New(slog.DiscardHandler)),
		megane.WithService("twitch", NewTwitch(), service.WithReadyTimeout(time.Minute)),
		megane.WithEventHandler(func(e cluster.Event) {
			switch {
			case e.Kind == cluster.EventAllReady:
				close(ready)
			case e.Kind == cluster.EventServiceState && e.Service == "twitch" && e.State == "ready":
				select { // never block the Manager's event delivery
				case twitchReady <- struct{}{}:
				default:
				}
			}
		}))
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	<-ready
	<-twitchReady // a request sent earlier would wait for Ready (up to its context)

	// What a cluster does: a typed request to the service's address.
	live, err := bus.Request[LiveStatus](ctx, m.Bus(), bus.Cluster(0), bus.Service("twitch"), "isLive", LiveQuery{Channel: "megane"})
	fmt.Println(live, err)
	st := m.Services(ctx)[0]
	fmt.Println(st.Name, st.State, st.Restarts)

	// Stopping removes the service from the bus.
	if err := m.StopService(ctx, "twitch"); err != nil {
		fmt.Println(err)
	}
	_, err = bus.Request[LiveStatus](ctx, m.Bus(), bus.Cluster(0), bus.Service("twitch"), "isLive", nil)
	fmt.Println(errors.Is(err, bus.ErrNoTarget))
	err = m.StopService(ctx, "twitch")
	fmt.Println(errors.Is(err, service.ErrNotFound))

	cancel()
	fmt.Println(<-done)
	// Output:
	// {megane true} <nil>
	// twitch ready 0
	// true
	// true
	// <nil>
}
