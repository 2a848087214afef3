package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/megane-go/megane"
	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/discordtest"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/status"
)

// TestRunStatusPage: -status serves the page and the probes while the bot
// runs; its actions need MEGANE_STATUS_TOKEN.
func TestRunStatusPage(t *testing.T) {
	t.Parallel()
	const token = "example-status-token"
	cfg := mustParse(t, []string{"-shards", "2", "-clusters", "2", "-guilds", "20", "-status", "127.0.0.1:0"},
		map[string]string{"MEGANE_STATUS_TOKEN": token})
	r := startBot(t, cfg, 1)
	r.await(t, r.ready, "all clusters ready")
	base := regexp.MustCompile(`http://127\.0\.0\.1:\d+/`).FindString(r.stderr.String())
	if base == "" {
		t.Fatalf("no status page URL in the log:\n%s", r.stderr.String())
	}
	get := func(path string) (int, string) {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if code, body := get("healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d %s", code, body)
	}
	testutil.Eventually(t, guard, "/readyz 200", func() bool { code, _ := get("readyz"); return code == http.StatusOK })
	if code, body := get(""); code != http.StatusOK || !strings.Contains(body, "Megane status") {
		t.Errorf("/: %d", code)
	}
	post := func(auth string) int {
		req, _ := http.NewRequest("POST", base+"clusters/0/restart?kind=worker", nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(""); code != http.StatusUnauthorized {
		t.Errorf("restart without the token: %d, want 401", code)
	}
	if code := post(token); code != http.StatusOK {
		t.Errorf("restart with MEGANE_STATUS_TOKEN: %d, want 200", code)
	}
	http.DefaultClient.CloseIdleConnections()
}

// README: "Status page and probes".
func readmeStatus(token string, newBot func() cluster.Worker, mux *http.ServeMux) (*megane.Manager, error) {
	tok := os.Getenv("MEGANE_STATUS_TOKEN") // "" = read-only: every action is refused
	m, err := megane.New(token,
		megane.WithWorker(newBot),
		megane.WithStatusAddr(":8080", status.WithToken(tok))) // binds 127.0.0.1:8080

	// or, on your own mux (with /metrics too):
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.PrometheusCollector(), // megane_*: read at scrape time
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux.Handle("/megane/", http.StripPrefix("/megane", m.StatusHandler(
		status.WithToken(tok), status.WithMetrics(reg), status.WithReadyThreshold(0.9))))
	return m, err
}

// TestREADMEStatus runs the README's block (without Run): the mounted
// handler answers under its prefix, and not ready before Run.
func TestREADMEStatus(t *testing.T) {
	t.Parallel()
	fake := discordtest.New(t, discordtest.WithShards(1))
	mux := http.NewServeMux()
	m, err := readmeStatus(fake.Token(), func() cluster.Worker {
		return cluster.WorkerFunc(func(context.Context, *cluster.Cluster) error { return nil })
	}, mux)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for path, want := range map[string]int{"/megane/readyz": http.StatusServiceUnavailable, "/megane/metrics": http.StatusOK} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}
