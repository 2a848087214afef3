package status_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/status"
)

// updateScreenshot copies the browser test's screenshot to
// docs/status.png, the one the README shows.
var updateScreenshot = flag.Bool("update-screenshot", false, "write the status page's screenshot to docs/status.png")

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds the whole browser test.
const browserTimeout = 2 * time.Minute

// recorder keeps a Manager's events; changed is closed and replaced on
// each one, so a waiter wakes without polling.
type recorder struct {
	mu      sync.Mutex
	events  []cluster.Event
	changed chan struct{}
}

func (r *recorder) handle(e cluster.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
}

// count returns how many events match and the channel of the next change.
func (r *recorder) count(match func(cluster.Event) bool) (int, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if match(e) {
			n++
		}
	}
	return n, r.changed
}

// waitFor waits until n events match.
func (r *recorder) waitFor(t *testing.T, what string, n int, match func(cluster.Event) bool) {
	t.Helper()
	deadline := time.NewTimer(browserTimeout)
	defer deadline.Stop()
	for {
		got, changed := r.count(match)
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func restartOf(id int) func(cluster.Event) bool {
	return func(e cluster.Event) bool {
		return e.Kind == cluster.EventRestarted && e.Cluster == id && e.Restart == cluster.RestartResume
	}
}

// TestStatusPageInBrowser drives the status page in headless Chromium:
// it reads the shard table back from the rendered DOM and compares it with
// the Manager's own data, clicks a guarded restart without the token
// (refused, nothing restarts) and with it (the cluster restarts), and
// saves a screenshot as a test artifact (-artifacts keeps it; with
// -update-screenshot it also becomes docs/status.png).
func TestStatusPageInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing: .ci/run installs Debian's chromium package before the tests", chromiumPath)
		}
		t.Skipf("%s is missing (apt-get install -y chromium); CI fails here instead", chromiumPath)
	}
	const token = "browser-test-admin-token"
	fake := testutil.NewFake(t, 4, 3)
	rec := &recorder{changed: make(chan struct{})}
	m, err := megane.New(fake.Token(),
		megane.WithWorker(func() cluster.Worker {
			return cluster.WorkerFunc(func(context.Context, *cluster.Cluster) error { return nil })
		}),
		megane.WithAPIURL(fake.APIURL()), megane.WithShards(4), megane.WithClusters(2),
		megane.WithQueueOptions(shard.WithIdentifyWindow(fake.IdentifyWindow()), shard.WithIdentifyMargin(testutil.IdentifyMargin)),
		megane.WithLogger(slog.New(slog.DiscardHandler)), megane.WithEventHandler(rec.handle))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(runCtx) }()
	defer func() {
		stopRun()
		if err := <-runErr; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	srv := httptest.NewServer(m.StatusHandler(status.WithToken(token)))
	defer srv.Close()
	rec.waitFor(t, "all clusters ready", 1, func(e cluster.Event) bool { return e.Kind == cluster.EventAllReady })

	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	ctx = newBrowser(t, ctx)

	// The page renders every shard as ready.
	run(t, ctx, "open the page", chromedp.Steps(
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`body[data-loaded="true"]`),
		voidPoll(`document.querySelectorAll("#shards tbody tr.shard.ready").length === 4`),
	))
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll("#shards tbody tr.shard"),
		tr => [tr.id, tr.querySelector(".shard-id").textContent, tr.querySelector(".shard-cluster").textContent,
		       tr.querySelector(".shard-status").textContent])`))
	if err != nil {
		t.Fatal(err)
	}
	var want [][]string
	snap, err := m.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range m.Clusters() {
		cs, _ := snap.Cluster(c.ID)
		for i, id := range c.ShardIDs {
			want = append(want, []string{fmt.Sprint("shard-", id), fmt.Sprint(id), fmt.Sprint(c.ID), cs.Shards[i].Status})
		}
	}
	slices.SortFunc(want, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("shard table in the page:\n%v\nthe Manager's:\n%v", rows, want)
	}

	// Without the token: refused, shown, and nothing restarts.
	run(t, ctx, "restart without the token", chromedp.Steps(
		chromedp.Click(`#restart-1-resume`),
		chromedp.WaitVisible(`#action-result.error`),
	))
	msg, err := chromedp.Run(ctx, chromedp.Text(`#action-result`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "401") {
		t.Errorf("result without the token: %q, want a 401", msg)
	}
	if n, _ := rec.count(restartOf(1)); n != 0 {
		t.Fatalf("cluster 1 restarted without the token")
	}

	// With the token: the restart happens.
	run(t, ctx, "restart with the token", chromedp.Steps(
		chromedp.SendKeys(`#token`, token),
		chromedp.Click(`#restart-1-resume`),
		chromedp.WaitVisible(`#action-result.ok`),
	))
	rec.waitFor(t, "cluster 1 restarted", 1, restartOf(1))
	if n, _ := rec.count(restartOf(0)); n != 0 {
		t.Error("cluster 0 restarted too")
	}
	run(t, ctx, "the page shows the restart", voidPoll(
		`document.querySelector("#cluster-1 .cluster-restarts").textContent === "1" &&
		 document.querySelectorAll("#shards tbody tr.shard.ready").length === 4 &&
		 document.querySelector("#events .kind-cluster_restarted") !== null`))

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.ArtifactDir(), "status.png")
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shot)
	if *updateScreenshot {
		if err := os.WriteFile(filepath.Join("..", "docs", "status.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// newBrowser starts headless Chromium with a fresh profile for the test
// and returns a context of one tab; the browser exits when the test ends.
func newBrowser(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		_ = chromedp.Cancel(tabCtx)
		cancelTab()
		cancelAlloc()
	})
	return tabCtx
}

// run runs steps and fails the test with what if they fail.
func run(t *testing.T, ctx context.Context, what string, steps chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := chromedp.Run(ctx, steps); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// voidPoll waits until the expression is true.
func voidPoll(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(browserTimeout))(ctx, t)
		return err
	})
}
