package notify

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// TestEmbedOf checks which events are posted and what each one says.
func TestEmbedOf(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	capErr := fmt.Errorf("%w: unit %q crashed 6 times within 1m0s: boom", supervisor.ErrTooManyRestarts, "cluster 3")
	tokenErr := &cluster.ShardError{Cluster: 0, Shard: 1, Err: shard.ErrInvalidToken}
	cases := []struct {
		name  string
		e     cluster.Event
		title string
		says  []string
		color int
	}{
		{"crash", cluster.Event{Kind: cluster.EventCrashed, Cluster: 2, Err: errors.New("boom"), Attempt: 3, At: at},
			"Cluster 2 crashed", []string{"boom", "attempt 3"}, colourRed},
		{"panic", cluster.Event{Kind: cluster.EventCrashed, Cluster: 1, Err: errors.New("x"),
			Panic: &supervisor.PanicError{Value: "oops"}}, "Cluster 1 crashed", []string{"panic: ", "oops"}, colourRed},
		{"standby crash", cluster.Event{Kind: cluster.EventCrashed, Cluster: 0, Standby: true, Err: errors.New("x")},
			"Cluster 0 (standby) crashed", nil, colourRed},
		{"restart", cluster.Event{Kind: cluster.EventRestarted, Cluster: 4, Restart: cluster.RestartResume, Attempt: 2},
			"Cluster 4 restarted", []string{cluster.RestartResume.String(), "attempt 2"}, colourGreen},
		{"reshard started", cluster.Event{Kind: cluster.EventReshardStarted, OldShards: 8, NewShards: 16, Generation: 1},
			"Re-shard started", []string{"8 → 16 shards", "generation 1"}, colourBlue},
		{"reshard completed", cluster.Event{Kind: cluster.EventReshardCompleted, OldShards: 8, NewShards: 16, Generation: 1},
			"Re-shard completed", []string{"8 → 16 shards"}, colourGreen},
		{"reshard failed", cluster.Event{Kind: cluster.EventReshardFailed, OldShards: 8, NewShards: 16, Err: errors.New("not ready")},
			"Re-shard failed", []string{"8 → 16", "old shard set keeps serving", "not ready"}, colourRed},
		{"budget low", cluster.Event{Kind: cluster.EventIdentifyBudgetLow, Remaining: 42},
			"Identify budget low", []string{"42 session starts left"}, colourOrange},
		{"restart cap", cluster.Event{Kind: cluster.EventError, Cluster: -1, Err: capErr},
			"Restart cap hit", []string{"gave up", `"cluster 3" crashed 6 times`}, colourRed},
		{"invalid token", cluster.Event{Kind: cluster.EventError, Cluster: -1, Err: tokenErr},
			"Bot token invalid", []string{"rejected the token", "shard 1"}, colourRed},
		{"other error", cluster.Event{Kind: cluster.EventError, Err: errors.New("shutdown failed")}, "", nil, 0},
		{"shard ready", cluster.Event{Kind: cluster.EventShardReady}, "", nil, 0},
		{"cluster ready", cluster.Event{Kind: cluster.EventReady}, "", nil, 0},
		{"stats", cluster.Event{Kind: cluster.EventStatsUpdated}, "", nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := posted(tc.e); got != (tc.title != "") {
				t.Fatalf("posted = %v", got)
			}
			if tc.title == "" {
				return
			}
			em := embedOf(tc.e)
			if em.Title != tc.title || em.Color != tc.color {
				t.Errorf("embed %+v, want title %q colour %#x", em, tc.title, tc.color)
			}
			for _, s := range tc.says {
				if !strings.Contains(em.Description, s) {
					t.Errorf("description %q does not say %q", em.Description, s)
				}
			}
			if !tc.e.At.IsZero() && em.Timestamp != "2026-01-02T03:04:05Z" {
				t.Errorf("timestamp %q", em.Timestamp)
			}
		})
	}
}

// TestMessageLimits checks a message of ten events with long errors stays
// within Discord's limits: 2000 characters of content, 6000 in all the
// embeds, and mentions nobody.
func TestMessageLimits(t *testing.T) {
	t.Parallel()
	long := errors.New(strings.Repeat("é@everyone ", 1000))
	batch := make([]cluster.Event, maxEmbeds)
	for i := range batch {
		batch[i] = cluster.Event{Kind: cluster.EventReshardFailed, Err: long}
	}
	m := newMessage(batch, 7)
	total := 0
	for _, em := range m.Embeds {
		total += utf8.RuneCountInString(em.Title) + utf8.RuneCountInString(em.Description)
	}
	if len(m.Embeds) != maxEmbeds || total > 6000 || utf8.RuneCountInString(m.Content) > maxContent ||
		!strings.HasSuffix(m.Embeds[0].Description, "…") || m.AllowedMentions.Parse == nil ||
		!strings.Contains(m.Content, "7 older events dropped") {
		t.Fatalf("%d embeds of %d characters, content %q, mentions %v", len(m.Embeds), total, m.Content, m.AllowedMentions)
	}
}
