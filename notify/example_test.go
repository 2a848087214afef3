package notify_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/notify"
)

// A Notifier posting to a fake Discord's webhook. Serve posts what is
// queued when its context ends, so the crash is posted by the time it
// returns.
func ExampleNew() {
	fake, err := discordtest.Start()
	if err != nil {
		panic(err)
	}
	defer fake.Close()
	n, err := notify.New(fake.APIURL()+"/webhooks/42/webhook-token", notify.WithWindow(time.Hour))
	if err != nil {
		panic(err)
	}
	fmt.Println(n)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Serve(ctx) }()
	n.Notify(cluster.Event{Kind: cluster.EventCrashed, Cluster: 3, Err: errors.New("boom")})
	n.Notify(cluster.Event{Kind: cluster.EventShardReady, Cluster: 3, Shard: 1}) // not posted
	cancel()
	<-done
	for _, m := range fake.WebhookPosted() {
		fmt.Println(m.WebhookID, m.Content, len(m.Embeds))
	}
	// Output:
	// notify.Notifier(webhook 42)
	// 42 megane: Cluster 3 crashed 1
}
