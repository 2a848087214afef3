package megane

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/notify"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// failingWorker's Launch fails its first fails calls (all of them when
// fails < 0), which crashes its cluster.
type failingWorker struct {
	tallyWorker
	fails    int64
	launches *atomic.Int64
}

func (w *failingWorker) Launch(ctx context.Context, c *cluster.Cluster) error {
	if n := w.launches.Add(1); w.fails < 0 || n <= w.fails {
		return errors.New("launch failed on purpose")
	}
	return w.tallyWorker.Launch(ctx, c)
}

// newTestNotifier is a notifier on fake's webhook 7 with a short window,
// whose HTTP client keeps no idle connection (goleak).
func newTestNotifier(t *testing.T, fake *discordtest.Server) *notify.Notifier {
	t.Helper()
	n, err := notify.New(fake.APIURL()+"/webhooks/7/hook-secret", notify.WithWindow(5*time.Millisecond),
		notify.WithHTTPClient(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// postedTitles returns the embed titles the fake's webhook took, in order.
func postedTitles(fake *discordtest.Server) []string {
	var out []string
	for _, m := range fake.WebhookPosted() {
		for _, raw := range m.Embeds {
			s := string(raw)
			_, rest, _ := strings.Cut(s, `"title":"`)
			title, _, _ := strings.Cut(rest, `"`)
			out = append(out, title)
		}
	}
	return out
}

// TestNotifierCrash runs a Manager with a notifier on the fake: its
// cluster's first Launch fails, so the cluster crashes and restarts, and
// its two identifies leave 4 of a budget of 50, under a tenth. The
// webhook gets the crash, the restart and one budget warning (the event
// is sent once, not for each new session), and the event handler still
// sees every event.
func TestNotifierCrash(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2, discordtest.WithSessionStartLimit(50, 6, time.Hour))
	tl := newTally()
	var launches atomic.Int64
	m, err := New(fake.Token(), append(baseOpts(fake, tl), WithClusters(1), WithNotifier(newTestNotifier(t, fake)),
		WithWorker(func() cluster.Worker {
			return &failingWorker{tallyWorker: tallyWorker{t: tl}, fails: 1, launches: &launches}
		}))...)
	if err != nil {
		t.Fatal(err)
	}
	run(t, m)
	waitAllReady(t, tl)
	want := map[string]bool{"Cluster 0 crashed": true, "Cluster 0 restarted": true, "Identify budget low": true}
	testutil.Eventually(t, testTimeout, "the crash, restart and budget posts", func() bool {
		n := 0
		for _, title := range postedTitles(fake) {
			if want[title] {
				n++
			}
		}
		return n == len(want)
	})
	tl.mu.Lock()
	lows, crashes := tl.count(cluster.EventIdentifyBudgetLow, -1), tl.count(cluster.EventCrashed, 0)
	var low cluster.Event
	for _, e := range tl.events {
		if e.Kind == cluster.EventIdentifyBudgetLow {
			low = e
		}
	}
	tl.mu.Unlock()
	if lows != 1 || low.Remaining != 4 || crashes != 1 {
		t.Fatalf("%d budget events (last %+v), %d crashes; want 1 with 4 left, 1", lows, low, crashes)
	}
	if got := postedTitles(fake); len(got) != 3 {
		t.Fatalf("posted %q, want the three", got)
	}
	if posts := fake.WebhookPosted(); posts[0].WebhookID != 7 {
		t.Fatalf("posted to webhook %d", posts[0].WebhookID)
	}
}

// TestNotifierRestartCap checks that a cluster that crashes past its
// restart policy's cap is posted ("Restart cap hit") by the time Run
// returns the error, and that the notifier's goroutine has stopped then
// (goleak checks the rest).
func TestNotifierRestartCap(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	tl := newTally()
	var launches atomic.Int64
	opts := append(baseOpts(fake, tl), WithNotifier(newTestNotifier(t, fake)),
		WithRestartPolicy(supervisor.Policy{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxRestarts: 1}),
		WithWorker(func() cluster.Worker {
			return &failingWorker{tallyWorker: tallyWorker{t: tl}, fails: -1, launches: &launches}
		}))
	m, err := New(fake.Token(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := m.Run(ctx); !errors.Is(err, supervisor.ErrTooManyRestarts) {
		t.Fatalf("Run = %v, want ErrTooManyRestarts", err)
	}
	titles := postedTitles(fake)
	if len(titles) == 0 || titles[len(titles)-1] != "Restart cap hit" {
		t.Fatalf("posted %q, want the restart cap last", titles)
	}
}

// TestNotifierInvalidToken checks a close 4004 (the token became invalid
// while the bot ran) is posted as "Bot token invalid" by the time Run
// returns ErrInvalidToken.
func TestNotifierInvalidToken(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 1)
	tl := newTally()
	m := gatewayBotManager(t, fake, tl, WithNotifier(newTestNotifier(t, fake)))
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	waitAllReady(t, tl)
	if err := fake.CloseShard(0, 4004); err != nil {
		t.Fatal(err)
	}
	if err := waitRun(t, done); !errors.Is(err, shard.ErrInvalidToken) {
		t.Fatalf("Run = %v, want ErrInvalidToken", err)
	}
	if titles := postedTitles(fake); !slices.Contains(titles, "Bot token invalid") {
		t.Fatalf("posted %q, want the invalid token", titles)
	}
}

// TestNotifierReshard checks a re-shard's start and completion are posted.
func TestNotifierReshard(t *testing.T) {
	t.Parallel()
	fake := newFake(t, 2)
	gt := newGenTally()
	m := reshardManager(t, fake, gt, WithClusters(1), WithNotifier(newTestNotifier(t, fake)))
	run(t, m)
	waitAllReady(t, gt.tally)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := m.Reshard(ctx, 4); err != nil {
		t.Fatalf("Reshard(4) = %v", err)
	}
	testutil.Eventually(t, testTimeout, "the re-shard posts", func() bool {
		titles := postedTitles(fake)
		return slices.Contains(titles, "Re-shard started") && slices.Contains(titles, "Re-shard completed")
	})
	for _, m := range fake.WebhookPosted() {
		for _, raw := range m.Embeds {
			if s := string(raw); strings.Contains(s, "Re-shard") && !strings.Contains(s, "2 → 4 shards (generation 1)") {
				t.Fatalf("re-shard embed %s, want 2 → 4 shards", s)
			}
		}
	}
}
