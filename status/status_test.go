package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/internal/testutil"
	"github.com/megane-go/megane/stats"
)

func TestMain(m *testing.M) { testutil.VerifyNoLeaks(m) }

// fakeSource is a Source with a fixed report that records the actions.
type fakeSource struct {
	mu       sync.Mutex
	report   Report
	health   error
	err      error // returned by the actions
	restarts []string
}

func (f *fakeSource) StatusReport(context.Context) Report {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.report
}

func (f *fakeSource) Health(context.Context) error { return f.health }

// Errors a fake source knows, as the Manager knows its own.
var (
	errNoCluster  = errors.New("fake: no such cluster")
	errResharding = errors.New("fake: re-shard in progress")
	errNotRunning = errors.New("fake: not running")
)

func (f *fakeSource) StatusCode(err error) int {
	switch {
	case errors.Is(err, errNoCluster):
		return http.StatusNotFound
	case errors.Is(err, errResharding):
		return http.StatusConflict
	case errors.Is(err, errNotRunning):
		return http.StatusServiceUnavailable
	}
	return 0
}

func (f *fakeSource) Restart(_ context.Context, id int, kind cluster.RestartKind) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restarts = append(f.restarts, fmt.Sprintf("%d/%s", id, kind))
	return f.err
}

func (f *fakeSource) RollingRestart(_ context.Context, kind cluster.RestartKind) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restarts = append(f.restarts, "rolling/"+kind.String())
	return f.err
}

func (f *fakeSource) actions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.restarts...)
}

// readyReport has n clusters, of which ready are ready.
func readyReport(n, ready int) Report {
	r := Report{Time: time.Unix(1700000000, 0).UTC(), Running: true, Queue: IdentifyQueue{Remaining: 990}}
	for i := range n {
		r.Clusters = append(r.Clusters, stats.ClusterStats{ID: i, State: "starting", Ready: i < ready,
			Shards: []stats.ShardStats{{ID: 2 * i, Status: "ready", Ready: true}, {ID: 2*i + 1, Status: "identifying"}}})
		if i < ready {
			r.Clusters[i].State = "ready"
		}
	}
	r.Events = []cluster.Event{{Kind: cluster.EventRestarted, Cluster: 1, Shard: -1, Restart: cluster.RestartResume,
		Err: errors.New("boom"), At: r.Time}}
	return r
}

// do sends a request to h and returns the status code and the body.
func do(t *testing.T, h http.Handler, method, path, auth string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		code int
	}{
		{"healthy", nil, http.StatusOK},
		{"owner stuck", context.DeadlineExceeded, http.StatusServiceUnavailable},
		{"not running", errNotRunning, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, body := do(t, Handler(&fakeSource{health: tc.err}), "GET", "/healthz", "")
			if code != tc.code {
				t.Fatalf("code %d, want %d (%s)", code, tc.code, body)
			}
		})
	}
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		report    Report
		threshold float64
		code      int
	}{
		{"none planned", Report{Running: true}, 0, http.StatusServiceUnavailable},
		{"not running", Report{Clusters: readyReport(2, 2).Clusters}, 0, http.StatusServiceUnavailable},
		{"all ready", readyReport(4, 4), 0, http.StatusOK},
		{"3 of 4", readyReport(4, 3), 0, http.StatusServiceUnavailable},
		{"3 of 4, threshold 0.75", readyReport(4, 3), 0.75, http.StatusOK},
		{"2 of 4, threshold 0.75", readyReport(4, 2), 0.75, http.StatusServiceUnavailable},
		{"3 of 4, bad threshold means 1", readyReport(4, 3), 1.5, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var opts []Option
			if tc.threshold != 0 {
				opts = append(opts, WithReadyThreshold(tc.threshold))
			}
			code, body := do(t, Handler(&fakeSource{report: tc.report}, opts...), "GET", "/readyz", "")
			if code != tc.code {
				t.Fatalf("code %d, want %d (%s)", code, tc.code, body)
			}
		})
	}
}

func TestStatusJSON(t *testing.T) {
	t.Parallel()
	code, body := do(t, Handler(&fakeSource{report: readyReport(2, 1)}), "GET", "/status.json", "")
	if code != http.StatusOK {
		t.Fatalf("code %d: %s", code, body)
	}
	var got struct {
		Running  bool `json:"running"`
		Clusters []struct {
			ID     int `json:"id"`
			Shards []struct {
				ID     int    `json:"id"`
				Status string `json:"status"`
			} `json:"shards"`
		} `json:"clusters"`
		Services []any `json:"services"`
		Queue    struct {
			Remaining int `json:"remaining"`
		} `json:"identify_queue"`
		Events []struct {
			Kind    string `json:"kind"`
			Cluster int    `json:"cluster"`
			Restart string `json:"restart"`
			Error   string `json:"error"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Running || len(got.Clusters) != 2 || got.Clusters[1].Shards[1].ID != 3 || got.Clusters[1].Shards[1].Status != "identifying" {
		t.Errorf("clusters: %+v", got.Clusters)
	}
	if got.Services == nil {
		t.Error("services is null, want []")
	}
	if got.Queue.Remaining != 990 {
		t.Errorf("queue: %+v", got.Queue)
	}
	if len(got.Events) != 1 || got.Events[0].Kind != "cluster_restarted" || got.Events[0].Restart != "resume" ||
		got.Events[0].Error != "boom" || got.Events[0].Cluster != 1 {
		t.Errorf("events: %+v", got.Events)
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	h := Handler(&fakeSource{})
	for _, p := range []string{"/", "/app.js", "/style.css"} {
		req := httptest.NewRequest("GET", p, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("GET %s: %d, %d bytes", p, rec.Code, rec.Body.Len())
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
	if code, _ := do(t, h, "GET", "/nothing", ""); code != http.StatusNotFound {
		t.Errorf("GET /nothing: %d, want 404", code)
	}
	_, html := do(t, h, "GET", "/", "")
	for _, forbidden := range []string{"http://", "https://", "<script>"} {
		if strings.Contains(html, forbidden) {
			t.Errorf("the page holds %q: it must load nothing from elsewhere and run no inline script", forbidden)
		}
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	if code, _ := do(t, Handler(&fakeSource{}), "GET", "/metrics", ""); code != http.StatusNotFound {
		t.Errorf("/metrics without WithMetrics: %d, want 404", code)
	}
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "megane_test_total", Help: "a test counter"})
	reg.MustRegister(c)
	c.Inc()
	code, body := do(t, Handler(&fakeSource{}, WithMetrics(reg)), "GET", "/metrics", "")
	if code != http.StatusOK || !strings.Contains(body, "megane_test_total 1") {
		t.Errorf("/metrics: %d %q", code, body)
	}
}

func TestActionTokens(t *testing.T) {
	t.Parallel()
	const tok = "s3cret-admin-token"
	for _, tc := range []struct {
		name   string
		token  string // configured
		auth   string // sent
		code   int
		action bool
	}{
		{"no token configured", "", "Bearer " + tok, http.StatusForbidden, false},
		{"no token configured, none sent", "", "", http.StatusForbidden, false},
		{"none sent", tok, "", http.StatusUnauthorized, false},
		{"wrong", tok, "Bearer wrong", http.StatusUnauthorized, false},
		{"prefix of the token", tok, "Bearer " + tok[:5], http.StatusUnauthorized, false},
		{"not bearer", tok, "Basic " + tok, http.StatusUnauthorized, false},
		{"right", tok, "Bearer " + tok, http.StatusOK, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs testutil.LogBuffer
			src := &fakeSource{}
			h := Handler(src, WithToken(tc.token), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			for _, path := range []string{"/clusters/1/restart?kind=resume", "/rolling-restart?kind=worker"} {
				code, body := do(t, h, "POST", path, tc.auth)
				if code != tc.code {
					t.Errorf("POST %s: %d, want %d (%s)", path, code, tc.code, body)
				}
				if !json.Valid([]byte(body)) {
					t.Errorf("POST %s: body is not JSON: %q", path, body)
				}
			}
			want := 0
			if tc.action {
				want = 2
			}
			if got := src.actions(); len(got) != want {
				t.Errorf("actions run: %v, want %d", got, want)
			}
			if tc.action && fmt.Sprint(src.actions()) != "[1/resume rolling/worker]" {
				t.Errorf("actions: %v", src.actions())
			}
			out := logs.String()
			if !strings.Contains(out, "status action") {
				t.Errorf("the action was not logged: %q", out)
			}
			if strings.Contains(out, tok) {
				t.Errorf("the token was logged: %q", out)
			}
		})
	}
}

// TestTokenCompareConstantTime checks, in the source, that the token is
// compared only through crypto/subtle: authorize calls tokenEqual, and
// tokenEqual calls subtle.ConstantTimeCompare and compares nothing with ==.
func TestTokenCompareConstantTime(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "actions.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]map[string]bool{}
	eq := map[string]int{}
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		name := fn.Name.Name
		calls[name] = map[string]bool{}
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				switch fun := n.Fun.(type) {
				case *ast.SelectorExpr:
					if x, ok := fun.X.(*ast.Ident); ok {
						calls[name][x.Name+"."+fun.Sel.Name] = true
					}
				case *ast.Ident:
					calls[name][fun.Name] = true
				}
			case *ast.BinaryExpr:
				if n.Op == token.EQL || n.Op == token.NEQ {
					eq[name]++
				}
			}
			return true
		})
	}
	if !calls["authorize"]["tokenEqual"] {
		t.Error("authorize does not compare through tokenEqual")
	}
	if !calls["tokenEqual"]["subtle.ConstantTimeCompare"] {
		t.Error("tokenEqual does not use subtle.ConstantTimeCompare")
	}
	if eq["tokenEqual"] != 1 { // the == 1 on ConstantTimeCompare's result
		t.Errorf("tokenEqual has %d comparisons, want only the one on ConstantTimeCompare's result", eq["tokenEqual"])
	}
	if !tokenEqual("abc", "abc") || tokenEqual("abc", "abd") || tokenEqual("abc", "abcd") || tokenEqual("", "abc") {
		t.Error("tokenEqual is wrong")
	}
}

func TestActionErrors(t *testing.T) {
	t.Parallel()
	const tok = "tok"
	for _, tc := range []struct {
		name string
		path string
		err  error
		code int
		runs bool
	}{
		{"bad kind", "/clusters/0/restart?kind=reboot", nil, http.StatusBadRequest, false},
		{"no kind", "/rolling-restart", nil, http.StatusBadRequest, false},
		{"bad cluster ID", "/clusters/x/restart?kind=full", nil, http.StatusBadRequest, false},
		{"negative cluster ID", "/clusters/-1/restart?kind=full", nil, http.StatusBadRequest, false},
		{"unknown cluster", "/clusters/9/restart?kind=full", fmt.Errorf("megane: no cluster 9: %w", errNoCluster), http.StatusNotFound, true},
		{"re-shard in progress", "/rolling-restart?kind=resume", errResharding, http.StatusConflict, true},
		{"not running", "/clusters/0/restart?kind=worker", errNotRunning, http.StatusServiceUnavailable, true},
		{"cluster stopped", "/clusters/0/restart?kind=worker", cluster.ErrStopped, http.StatusServiceUnavailable, true},
		{"timeout", "/clusters/0/restart?kind=worker", context.DeadlineExceeded, http.StatusGatewayTimeout, true},
		{"other", "/clusters/0/restart?kind=worker", errors.New("boom"), http.StatusInternalServerError, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := &fakeSource{err: tc.err}
			code, body := do(t, Handler(src, WithToken(tok)), "POST", tc.path, "Bearer "+tok)
			if code != tc.code {
				t.Errorf("code %d, want %d (%s)", code, tc.code, body)
			}
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
				t.Errorf("body %q is not a JSON error", body)
			}
			if ran := len(src.actions()) > 0; ran != tc.runs {
				t.Errorf("action ran: %v, want %v", ran, tc.runs)
			}
		})
	}
}

func TestActionsArePOSTOnly(t *testing.T) {
	t.Parallel()
	src := &fakeSource{}
	h := Handler(src, WithToken("tok"))
	if code, _ := do(t, h, "GET", "/clusters/0/restart?kind=full", "Bearer tok"); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		t.Errorf("GET of an action: %d, want 404 or 405", code)
	}
	if len(src.actions()) != 0 {
		t.Error("a GET ran an action")
	}
}

func TestListen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr string
		opts []Option
		ok   bool
	}{
		{":0", nil, true},
		{"127.0.0.1:0", nil, true},
		{"localhost:0", nil, true},
		{"[::1]:0", nil, true},
		{"0.0.0.0:0", nil, false},
		{"example.com:0", nil, false},
		{"0.0.0.0:0", []Option{WithRemoteAccess()}, true},
		{"no-port", nil, false},
	} {
		ln, err := Listen(tc.addr, tc.opts...)
		if tc.ok != (err == nil) {
			t.Errorf("Listen(%q): %v, want ok %v", tc.addr, err, tc.ok)
		}
		if err != nil {
			if !tc.ok && strings.Contains(tc.addr, ":") && tc.addr != "no-port" && !errors.Is(err, ErrNotLoopback) {
				t.Errorf("Listen(%q): %v, want ErrNotLoopback", tc.addr, err)
			}
			continue
		}
		if tc.addr == ":0" && !strings.HasPrefix(ln.Addr().String(), "127.0.0.1:") {
			t.Errorf("Listen(:0) bound %s, want 127.0.0.1", ln.Addr())
		}
		_ = ln.Close()
	}
}

// TestServedOverTCP serves the handler on a real listener and reads a
// probe back, as a Kubernetes kubelet would.
func TestServedOverTCP(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(Handler(&fakeSource{report: readyReport(1, 1)}))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/readyz: %d %q %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}
