package main

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// set builds a seqSet of the numbers in 1..n except those in but.
func set(n int, but ...int) seqSet {
	var s seqSet
	for seq := 1; seq <= n; seq++ {
		if !slices.Contains(but, seq) {
			s.add(seq)
		}
	}
	return s
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// twoSessions is a shard whose session "a" (started at 0 s, 10 dispatches)
// ended and whose session "b" (started at 10 s) is live.
func twoSessions(gotA, gotB seqSet, lastB int, ends ...sessionEnd) shardRecord {
	return shardRecord{
		Shard: 3,
		Sessions: []sessionRecord{
			{ID: "a", Started: at(0), LastSeq: 10, Got: gotA},
			{ID: "b", Started: at(10), LastSeq: lastB, Got: gotB},
		},
		Live:    1,
		Ends:    ends,
		Readies: []time.Time{at(0.1), at(10.1)},
	}
}

func TestCompare(t *testing.T) {
	t.Parallel()
	op9 := func(from, to float64) sessionEnd {
		return sessionEnd{Start: at(from), End: at(to), Cause: "op9_not_resumable"}
	}
	cases := []struct {
		name        string
		shard       shardRecord
		lost        int
		why         []string // of each loss, in order
		ranges      [][]string
		allowed     map[string]int
		legit       int
		unjustified int
		dups        int
		delivered   int
	}{
		{
			name:      "everything delivered",
			shard:     twoSessions(set(10), set(5), 5, op9(5, 5)),
			allowed:   map[string]int{},
			legit:     1,
			delivered: 15,
		},
		{
			name:      "live session with a gap and a missing tail",
			shard:     twoSessions(set(10), set(8, 3, 4, 8), 9, op9(5, 5)),
			lost:      4,
			why:       []string{lostLive},
			ranges:    [][]string{{"3-4", "8-9"}},
			allowed:   map[string]int{},
			legit:     1,
			delivered: 15,
		},
		{
			name:      "ended session with a tail allowed by a fault in its window",
			shard:     twoSessions(set(6), set(5), 5, op9(5, 5.001)),
			allowed:   map[string]int{"op9_not_resumable": 4},
			legit:     1,
			delivered: 11,
		},
		{
			name:      "ended session with a gap (lost) and an allowed tail",
			shard:     twoSessions(set(6, 2), set(5), 5, op9(5, 5)),
			lost:      1,
			why:       []string{lostGap},
			ranges:    [][]string{{"2"}},
			allowed:   map[string]int{"op9_not_resumable": 4},
			legit:     1,
			delivered: 10,
		},
		{
			name:        "ended session with an unjustified tail",
			shard:       twoSessions(set(6), set(5), 5),
			lost:        4,
			why:         []string{lostTail},
			ranges:      [][]string{{"7-10"}},
			allowed:     map[string]int{},
			unjustified: 1,
			delivered:   11,
		},
		{
			name:        "a fault before the session started justifies nothing",
			shard:       twoSessions(set(6), set(5), 5, op9(-1, -1)),
			lost:        4,
			why:         []string{lostTail},
			ranges:      [][]string{{"7-10"}},
			allowed:     map[string]int{},
			unjustified: 1,
			delivered:   11,
		},
		{
			name:        "a fault after the next session started justifies nothing",
			shard:       twoSessions(set(6), set(5), 5, op9(10, 10)),
			lost:        4,
			why:         []string{lostTail},
			ranges:      [][]string{{"7-10"}},
			allowed:     map[string]int{},
			unjustified: 1,
			delivered:   11,
		},
		{
			name:        "a fault straddling the next session's start justifies nothing",
			shard:       twoSessions(set(6), set(5), 5, op9(9.9, 10.1)),
			lost:        4,
			why:         []string{lostTail},
			ranges:      [][]string{{"7-10"}},
			allowed:     map[string]int{},
			unjustified: 1,
			delivered:   11,
		},
		{
			name:        "an unjustified end with nothing missing loses nothing",
			shard:       twoSessions(set(10), set(5), 5),
			allowed:     map[string]int{},
			unjustified: 1,
			delivered:   15,
		},
		{
			name: "duplicates are counted, not delivered twice",
			shard: func() shardRecord {
				r := twoSessions(set(10), set(5), 5, op9(5, 5))
				r.Sessions[0].Dups, r.Sessions[1].Dups = 2, 1
				return r
			}(),
			allowed:   map[string]int{},
			legit:     1,
			dups:      3,
			delivered: 15,
		},
		{
			name: "a session whose READY the shard never read ended legitimately",
			shard: func() shardRecord {
				r := twoSessions(seqSet{}, set(5), 5)
				r.Readies = []time.Time{at(10.1)}
				return r
			}(),
			allowed:   map[string]int{neverRead: 10},
			legit:     1,
			delivered: 5,
		},
		{
			name:        "a session whose READY the shard read but that got nothing is lost",
			shard:       twoSessions(seqSet{}, set(5), 5),
			lost:        10,
			why:         []string{lostTail},
			ranges:      [][]string{{"1-10"}},
			allowed:     map[string]int{},
			unjustified: 1,
			delivered:   5,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := compare([]shardRecord{tc.shard})
			sent := 0
			for _, s := range tc.shard.Sessions {
				sent += s.LastSeq
			}
			if c.Sent != sent || c.Delivered != tc.delivered || c.Lost != tc.lost || c.Duplicates != tc.dups {
				t.Errorf("sent %d delivered %d lost %d dups %d, want %d %d %d %d",
					c.Sent, c.Delivered, c.Lost, c.Duplicates, sent, tc.delivered, tc.lost, tc.dups)
			}
			if !maps.Equal(c.LostAllowed, tc.allowed) {
				t.Errorf("lost_allowed %v, want %v", c.LostAllowed, tc.allowed)
			}
			if c.LegitEnds != tc.legit || len(c.Unjustified) != tc.unjustified {
				t.Errorf("legit ends %d unjustified %d, want %d %d", c.LegitEnds, len(c.Unjustified), tc.legit, tc.unjustified)
			}
			if len(c.Losses) != len(tc.why) {
				t.Fatalf("losses %+v, want %d of them", c.Losses, len(tc.why))
			}
			for i, l := range c.Losses {
				if l.Why != tc.why[i] || !slices.Equal(l.Ranges, tc.ranges[i]) || l.Shard != 3 {
					t.Errorf("loss %d: %+v, want why %q ranges %v on shard 3", i, l, tc.why[i], tc.ranges[i])
				}
			}
		})
	}
}

// TestCompareAllowsOnlyTheSessionEnded: one fault justifies the session it
// hit, not the earlier one, even on one shard with three sessions.
func TestCompareAllowsOnlyTheSessionEnded(t *testing.T) {
	t.Parallel()
	r := shardRecord{
		Shard: 0,
		Sessions: []sessionRecord{
			{ID: "a", Started: at(0), LastSeq: 10, Got: set(8)},
			{ID: "b", Started: at(10), LastSeq: 10, Got: set(8)},
			{ID: "c", Started: at(20), LastSeq: 3, Got: set(3)},
		},
		Live: 2,
		Ends: []sessionEnd{{Start: at(15), End: at(15), Cause: "restart_full"}},
	}
	c := compare([]shardRecord{r})
	if c.Lost != 2 || len(c.Losses) != 1 || c.Losses[0].Session != "a" || c.Losses[0].Why != lostTail {
		t.Errorf("losses %+v (lost %d), want session a's tail of 2", c.Losses, c.Lost)
	}
	if !maps.Equal(c.LostAllowed, map[string]int{"restart_full": 2}) || c.LegitEnds != 1 {
		t.Errorf("lost_allowed %v legit %d, want b's tail of 2 for restart_full", c.LostAllowed, c.LegitEnds)
	}
}

func TestRanges(t *testing.T) {
	t.Parallel()
	cases := []struct {
		seqs  []int
		limit int
		want  []string
	}{
		{nil, 5, nil},
		{[]int{4}, 5, []string{"4"}},
		{[]int{1, 2, 3, 7, 9, 10}, 5, []string{"1-3", "7", "9-10"}},
		{[]int{1, 3, 5, 7}, 2, []string{"1", "3", "... 2 more numbers"}},
	}
	for _, tc := range cases {
		if got := ranges(tc.seqs, tc.limit); !slices.Equal(got, tc.want) {
			t.Errorf("ranges(%v, %d) = %q, want %q", tc.seqs, tc.limit, got, tc.want)
		}
	}
}

func TestSeqSet(t *testing.T) {
	t.Parallel()
	var s seqSet
	for _, seq := range []int{1, 63, 64, 65, 200} {
		if !s.add(seq) {
			t.Fatalf("add(%d) reported a duplicate", seq)
		}
	}
	if s.add(64) {
		t.Fatal("add(64) twice reported new")
	}
	if s.n != 5 || s.max != 200 || !s.has(63) || s.has(62) || s.has(0) || s.has(1000) {
		t.Fatalf("set %+v", s)
	}
	for n, want := range map[int]int{0: 0, 1: 1, 63: 2, 64: 3, 127: 4, 199: 4, 200: 5, 1000: 5} {
		if got := s.countTo(n); got != want {
			t.Errorf("countTo(%d) = %d, want %d", n, got, want)
		}
	}
}
