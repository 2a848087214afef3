package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/megane-go/megane/discordtest"
)

// fakeSpec configures the fake Discord child.
type fakeSpec struct {
	Shards         int     `json:"shards"`
	Guilds         int     `json:"guilds"`
	Members        int     `json:"members"`
	Channels       int     `json:"channels"`
	Roles          int     `json:"roles"`
	MaxConcurrency int     `json:"max_concurrency"`
	WindowMs       float64 `json:"identify_window_ms"` // 0 disables the bucket check
}

func (f fakeSpec) options() []discordtest.Option {
	return []discordtest.Option{
		discordtest.WithShards(f.Shards), discordtest.WithGuilds(f.Guilds),
		discordtest.WithMembers(f.Members), discordtest.WithChannels(f.Channels),
		discordtest.WithRoles(f.Roles), discordtest.WithMaxConcurrency(f.MaxConcurrency),
		discordtest.WithIdentifyWindow(time.Duration(f.WindowMs * float64(time.Millisecond))),
		discordtest.WithReplayBuffer(4096),
		discordtest.WithSessionStartLimit(100000, 100000, 24*time.Hour),
		discordtest.WithLogger(slog.New(slog.DiscardHandler)),
	}
}

// fakeAddr is where a fake child listens; bots get it in their spec.
type fakeAddr struct {
	APIURL  string `json:"api_url"`
	Token   string `json:"token"`
	Control string `json:"control"`
}

// runFakeChild runs the fake Discord and a control endpoint (emit, rate,
// counters) until stdin closes. It prints "listening URL", "token TOKEN"
// and "control URL" first, as discordtest/cmd/fakediscord does for the
// first two; the control endpoint is what lets a bot in another process
// ask for MESSAGE_CREATE-only traffic (Emit), which fakediscord's flags
// cannot.
func runFakeChild(spec fakeSpec) error {
	s, err := discordtest.Start(spec.options()...)
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, stopPacer := context.WithCancel(context.Background())
	defer stopPacer()
	p := newPacer(s, spec.Shards)
	paced := make(chan struct{})
	go func() {
		defer close(paced)
		p.run(ctx)
	}()
	srv := &http.Server{Handler: controlMux(s, p), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	fmt.Fprintln(os.Stdout, "listening", s.URL())
	fmt.Fprintln(os.Stdout, "token", s.Token())
	fmt.Fprintln(os.Stdout, "control", "http://"+ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin) // the parent closes stdin to stop us
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	<-served
	stopPacer()
	<-paced
	return nil
}

// fakeLoad is what GET /load reports: the fake's dispatches and its own
// process's CPU, so a paced window can show that the fake kept up.
type fakeLoad struct {
	Dispatches int64   `json:"dispatches_sent"`
	CPUSec     float64 `json:"cpu_s"`       // user + system of the fake's process
	PaceMissed int64   `json:"pace_missed"` // paced emits refused (no live session for the shard)
}

// controlMux serves POST /emit?shard=S&n=N, POST /rate?r=R,
// POST /pace?r=R (MESSAGE_CREATEs per second in total, see pacer),
// GET /counters and GET /load.
func controlMux(s *discordtest.Server, p *pacer) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/emit", func(w http.ResponseWriter, r *http.Request) {
		shard, err1 := strconv.Atoi(r.URL.Query().Get("shard"))
		n, err2 := strconv.Atoi(r.URL.Query().Get("n"))
		if err := errors.Join(err1, err2); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.Emit(shard, n); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
		}
	})
	mux.HandleFunc("/rate", func(w http.ResponseWriter, r *http.Request) {
		rate, err := strconv.ParseFloat(r.URL.Query().Get("r"), 64)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.SetRate(rate)
	})
	mux.HandleFunc("/pace", func(w http.ResponseWriter, r *http.Request) {
		rate, err := strconv.ParseFloat(r.URL.Query().Get("r"), 64)
		if err == nil && (rate < 0 || math.IsNaN(rate) || math.IsInf(rate, 0)) {
			err = fmt.Errorf("pace rate %v: want a finite rate >= 0", rate)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := p.setRate(r.Context(), rate); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/counters", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(s.Counters())
	})
	mux.HandleFunc("/load", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(fakeLoad{Dispatches: s.Counters().DispatchesSent,
			CPUSec: cpuNow().Seconds(), PaceMissed: p.missed.Load()})
	})
	return mux
}

// startFake starts a fake child and returns it with its addresses.
func startFake(ctx context.Context, l launcher, spec fakeSpec) (*server, fakeAddr, error) {
	s, err := l.serve(ctx, "fake", spec, 3)
	if err != nil {
		return nil, fakeAddr{}, err
	}
	addr := fakeAddr{
		APIURL:  strings.TrimPrefix(s.first[0], "listening ") + "/api/v10",
		Token:   strings.TrimPrefix(s.first[1], "token "),
		Control: strings.TrimPrefix(s.first[2], "control "),
	}
	return s, addr, nil
}

// control is a client of a fake child's control endpoint.
type control struct {
	base   string
	client *http.Client
}

func newControl(base string) control {
	return control{base: base, client: &http.Client{Timeout: 10 * time.Second}}
}

func (c control) post(path string, q url.Values) error {
	resp, err := c.client.Post(c.base+path+"?"+q.Encode(), "text/plain", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("fake %s: %s: %s", path, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// close releases the client's idle connections.
func (c control) close() { c.client.CloseIdleConnections() }

// emit asks for n MESSAGE_CREATEs on every live shard.
func (c control) emit(n int) error {
	return c.post("/emit", url.Values{"shard": {strconv.Itoa(discordtest.AllShards)}, "n": {strconv.Itoa(n)}})
}

// rate sets the mixed traffic rate per shard (-1: as fast as possible).
func (c control) rate(r float64) error {
	return c.post("/rate", url.Values{"r": {strconv.FormatFloat(r, 'g', -1, 64)}})
}

// pace sets the fake's paced MESSAGE_CREATEs, in events per second in
// total over all shards (0 stops them).
func (c control) pace(total float64) error {
	return c.post("/pace", url.Values{"r": {strconv.FormatFloat(total, 'g', -1, 64)}})
}

// load reads the fake's dispatch count and CPU.
func (c control) load() (fakeLoad, error) {
	var out fakeLoad
	resp, err := c.client.Get(c.base + "/load")
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out, err
}

// counters reads the fake's counters.
func (c control) counters() (discordtest.Counters, error) {
	var out discordtest.Counters
	resp, err := c.client.Get(c.base + "/counters")
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out, err
}
