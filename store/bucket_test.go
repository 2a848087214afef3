package store

import (
	"errors"
	"maps"
	"testing"
)

func TestZeroValuesAreValues(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	ints := mustOpen[string, int](t, s, "ints")
	bools := mustOpen[string, bool](t, s, "bools")
	strs := mustOpen[string, string](t, s, "strs")
	ptrs := mustOpen[string, *int](t, s, "ptrs")

	ints.Set("k", 0)
	bools.Set("k", false)
	strs.Set("k", "")
	ptrs.Set("k", nil)

	tests := []struct {
		name string
		get  func() (any, bool)
		has  func() bool
		want any
	}{
		{"int", func() (any, bool) { return ints.Get("k") }, func() bool { return ints.Has("k") }, 0},
		{"bool", func() (any, bool) { return bools.Get("k") }, func() bool { return bools.Has("k") }, false},
		{"string", func() (any, bool) { return strs.Get("k") }, func() bool { return strs.Has("k") }, ""},
		{"nil pointer", func() (any, bool) { return ptrs.Get("k") }, func() bool { return ptrs.Has("k") }, (*int)(nil)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, ok := tc.get()
			if !ok || v != tc.want {
				t.Errorf("Get = (%v, %v), want (%v, true)", v, ok, tc.want)
			}
			if !tc.has() {
				t.Error("Has = false, want true")
			}
		})
	}
	if n := ints.Len(); n != 1 {
		t.Errorf("Len = %d, want 1", n)
	}
}

func TestValuesAreShared(t *testing.T) {
	t.Parallel()
	s := newTestStore(t)
	b := mustOpen[int, *[]string](t, s, "shared")
	v := &[]string{"a"}
	b.Set(1, v)
	got, _ := b.Get(1)
	if got != v {
		t.Fatalf("Get returned %p, want the stored pointer %p", got, v)
	}
}

func TestBasicOps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		run     func(b *Bucket[string, int]) // after b holds a=1, b=2
		want    map[string]int
		wantLen int
	}{
		{"set new", func(b *Bucket[string, int]) { b.Set("c", 3) }, map[string]int{"a": 1, "b": 2, "c": 3}, 3},
		{"set replaces", func(b *Bucket[string, int]) { b.Set("a", 10) }, map[string]int{"a": 10, "b": 2}, 2},
		{"delete present", func(b *Bucket[string, int]) {
			if !b.Delete("a") {
				t.Error("Delete(a) = false, want true")
			}
		}, map[string]int{"b": 2}, 1},
		{"delete absent", func(b *Bucket[string, int]) {
			if b.Delete("zz") {
				t.Error("Delete(zz) = true, want false")
			}
		}, map[string]int{"a": 1, "b": 2}, 2},
		{"clear", func(b *Bucket[string, int]) { b.Clear() }, map[string]int{}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := mustOpen[string, int](t, newTestStore(t), "b")
			b.Set("a", 1)
			b.Set("b", 2)
			tc.run(b)
			if got := collect(b); !maps.Equal(got, tc.want) {
				t.Errorf("contents = %v, want %v", got, tc.want)
			}
			if n := b.Len(); n != tc.wantLen {
				t.Errorf("Len = %d, want %d", n, tc.wantLen)
			}
			for k := range tc.want {
				if !b.Has(k) {
					t.Errorf("Has(%q) = false", k)
				}
			}
			if b.Has("zz") {
				t.Error(`Has("zz") = true`)
			}
		})
	}
}

func TestRangeStopsEarly(t *testing.T) {
	t.Parallel()
	b := mustOpen[int, int](t, newTestStore(t), "r")
	for i := range 100 {
		b.Set(i, i)
	}
	calls := 0
	b.Range(func(int, int) bool { calls++; return calls < 3 })
	if calls != 3 {
		t.Fatalf("Range called f %d times after it returned false on the 3rd, want 3", calls)
	}
}

func TestCompute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		preset      bool // key "k" holds 5 before
		fn          func(old int, loaded bool) (int, Op)
		wantVal     int
		wantPresent bool
		wantStored  map[string]int
	}{
		{"update present", true, func(old int, _ bool) (int, Op) { return old + 1, OpUpdate }, 6, true, map[string]int{"k": 6}},
		{"update absent", false, func(old int, loaded bool) (int, Op) {
			if loaded || old != 0 {
				return -1, OpUpdate
			}
			return 7, OpUpdate
		}, 7, true, map[string]int{"k": 7}},
		{"update to zero", true, func(int, bool) (int, Op) { return 0, OpUpdate }, 0, true, map[string]int{"k": 0}},
		{"keep present", true, func(int, bool) (int, Op) { return 99, OpKeep }, 5, true, map[string]int{"k": 5}},
		{"keep absent", false, func(int, bool) (int, Op) { return 99, OpKeep }, 0, false, map[string]int{}},
		{"delete present", true, func(int, bool) (int, Op) { return 99, OpDelete }, 0, false, map[string]int{}},
		{"delete absent", false, func(int, bool) (int, Op) { return 99, OpDelete }, 0, false, map[string]int{}},
		{"unknown op keeps", true, func(int, bool) (int, Op) { return 99, Op(42) }, 5, true, map[string]int{"k": 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := mustOpen[string, int](t, newTestStore(t), "c")
			if tc.preset {
				b.Set("k", 5)
			}
			v, ok := b.Compute("k", tc.fn)
			if v != tc.wantVal || ok != tc.wantPresent {
				t.Errorf("Compute = (%d, %v), want (%d, %v)", v, ok, tc.wantVal, tc.wantPresent)
			}
			if got := collect(b); !maps.Equal(got, tc.wantStored) {
				t.Errorf("contents = %v, want %v", got, tc.wantStored)
			}
		})
	}
}

func TestComputePanicReleasesLock(t *testing.T) {
	t.Parallel()
	b := mustOpen[string, int](t, newTestStore(t), "p")
	b.Set("k", 1)
	errBoom := errors.New("boom")
	func() {
		defer func() {
			if r := recover(); r != errBoom {
				t.Errorf("recovered %v, want %v", r, errBoom)
			}
		}()
		b.Compute("k", func(int, bool) (int, Op) { panic(errBoom) })
		t.Error("Compute returned instead of panicking")
	}()
	// The key's lock must be free again and the entry unchanged.
	b.Set("k", 2)
	if v, _ := b.Get("k"); v != 2 {
		t.Fatalf("Get after panic+Set = %d, want 2", v)
	}
}

func TestCompareAndSwap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		preset    bool // "k" holds "old"
		old, new  string
		wantSwap  bool
		wantValue string
		wantOK    bool
	}{
		{"match", true, "old", "new", true, "new", true},
		{"mismatch", true, "other", "new", false, "old", true},
		{"absent", false, "", "new", false, "", false},
		{"to zero", true, "old", "", true, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := mustOpen[string, string](t, newTestStore(t), "cas")
			if tc.preset {
				b.Set("k", "old")
			}
			if got := CompareAndSwap(b, "k", tc.old, tc.new); got != tc.wantSwap {
				t.Errorf("CompareAndSwap = %v, want %v", got, tc.wantSwap)
			}
			v, ok := b.Get("k")
			if v != tc.wantValue || ok != tc.wantOK {
				t.Errorf("Get = (%q, %v), want (%q, %v)", v, ok, tc.wantValue, tc.wantOK)
			}
		})
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got, want string
	}{
		{OpKeep.String(), "OpKeep"},
		{OpUpdate.String(), "OpUpdate"},
		{OpDelete.String(), "OpDelete"},
		{Op(9).String(), "Op(9)"},
		{KindSet.String(), "KindSet"},
		{KindDelete.String(), "KindDelete"},
		{KindExpire.String(), "KindExpire"},
		{KindClear.String(), "KindClear"},
		{KindOverflow.String(), "KindOverflow"},
		{Kind(0).String(), "Kind(0)"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("String() = %q, want %q", tc.got, tc.want)
		}
	}
}

// collect returns the bucket's contents as a plain map.
func collect[K comparable, V any](b *Bucket[K, V]) map[K]V {
	m := make(map[K]V)
	b.Range(func(k K, v V) bool { m[k] = v; return true })
	return m
}
