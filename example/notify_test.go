package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/notify"
)

// README: "Notifications".
func readmeNotify(token string, newBot func() cluster.Worker) (*megane.Manager, error) {
	n, err := notify.New(os.Getenv("MEGANE_WEBHOOK_URL"), // https://discord.com/api/webhooks/{id}/{token}
		notify.WithWindow(2*time.Second), // the default
		notify.WithLogger(slog.Default()))
	if err != nil {
		return nil, err // a URL that is not a webhook's
	}
	m, err := megane.New(token, megane.WithWorker(newBot), megane.WithNotifier(n))
	return m, err
}

// TestREADMENotify runs the README's block: with the fake Discord's webhook
// URL it builds a Manager; without a URL it fails with the notifier's
// error.
func TestREADMENotify(t *testing.T) {
	fake := discordtest.New(t, discordtest.WithShards(1))
	newBot := func() cluster.Worker {
		return cluster.WorkerFunc(func(context.Context, *cluster.Cluster) error { return nil })
	}
	t.Setenv("MEGANE_WEBHOOK_URL", fake.APIURL()+"/webhooks/1/secret")
	m, err := readmeNotify(fake.Token(), newBot)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	t.Setenv("MEGANE_WEBHOOK_URL", "")
	if _, err := readmeNotify(fake.Token(), newBot); !errors.Is(err, notify.ErrInvalidWebhookURL) {
		t.Fatalf("without a webhook URL: %v, want ErrInvalidWebhookURL", err)
	}
}
