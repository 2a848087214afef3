package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRunPrintsAddressAndTokenAndServes(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-shards", "3", "-guilds", "30", "-token", "MTIz.x.y", "-compress", "none,zstd-stream", "-contents", "!ping,!stats", "-guild-rate", "50"}, pw, io.Discard)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var got []string
	for len(got) < 2 && lines.Scan() {
		got = append(got, lines.Text())
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "listening http://127.0.0.1:") || got[1] != "token MTIz.x.y" {
		t.Fatalf("output %q", got)
	}
	url := strings.TrimPrefix(got[0], "listening ")
	req, _ := http.NewRequest(http.MethodGet, url+"/api/v10/gateway/bot", nil)
	req.Header.Set("Authorization", "Bot MTIz.x.y")
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var gb struct{ Shards int }
	err = json.NewDecoder(resp.Body).Decode(&gb)
	resp.Body.Close()
	if err != nil || gb.Shards != 3 {
		t.Errorf("gateway/bot shards %d (%v)", gb.Shards, err)
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	t.Parallel()
	cases := [][]string{{"-compress", "gzip"}, {"-compress", "none,zlib-payload"}, {"-shards", "0"}, {"-nope"}, {"-contents", "!ping", "-contents-every", "-1"}}
	for _, args := range cases {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
