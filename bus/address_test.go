package bus

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestAddressTextRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		addr Address
		text string
	}{
		{Address{}, "none"},
		{Manager(), "manager"},
		{Cluster(0), "cluster/0"},
		{Cluster(17), "cluster/17"},
		{Service("twitch"), "service/twitch"},
		{Service("a/b"), "service/a/b"},
		{AllClusters(), "cluster/*"},
		{AllServices(), "service/*"},
		{GuildOwner(81384788765712384), "guild/81384788765712384"},
		{GuildOwner(0), "guild/0"},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			t.Parallel()
			if got := tc.addr.String(); got != tc.text {
				t.Fatalf("String() = %q, want %q", got, tc.text)
			}
			got, err := ParseAddress(tc.text)
			if err != nil || got != tc.addr {
				t.Fatalf("ParseAddress(%q) = %#v, %v; want %#v", tc.text, got, err, tc.addr)
			}
			js, err := json.Marshal(tc.addr)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if want := `"` + tc.text + `"`; string(js) != want {
				t.Fatalf("Marshal = %s, want %s", js, want)
			}
			var back Address
			if err := json.Unmarshal(js, &back); err != nil || back != tc.addr {
				t.Fatalf("Unmarshal(%s) = %#v, %v", js, back, err)
			}
		})
	}
}

func TestAddressClusterZeroIsACluster(t *testing.T) {
	t.Parallel()
	a := Cluster(0)
	if a == (Address{}) || !a.isConcrete() || a.kind != kindCluster {
		t.Fatalf("Cluster(0) = %#v must be a concrete cluster address, not the zero Address", a)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Cluster(0).Validate() = %v", err)
	}
}

func TestParseAddressRejects(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"", "cluster", "cluster/", "cluster/-1", "cluster/+1", "cluster/01", "cluster/x",
		"cluster/99999999999999999999999", "service/", "service/a b", "service/\x00",
		"guild/", "guild/-1", "guild/007", "guild/18446744073709551616", "nobody/1", "Manager",
	} {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			_, err := ParseAddress(s)
			var ae *AddressError
			if !errors.As(err, &ae) || !errors.Is(err, ErrInvalidAddress) {
				t.Fatalf("ParseAddress(%q) error = %v, want *AddressError matching ErrInvalidAddress", s, err)
			}
		})
	}
}

func TestAddressValidateAndMarshalRejects(t *testing.T) {
	t.Parallel()
	for _, a := range []Address{
		Cluster(-1), Service(""), Service("*"), {kind: kindCluster, Name: "x"},
		{kind: kindManager, ID: 3}, {kind: 200}, {kind: kindGuildOwner, ID: 1},
	} {
		t.Run(a.String(), func(t *testing.T) {
			t.Parallel()
			if err := a.Validate(); !errors.Is(err, ErrInvalidAddress) {
				t.Fatalf("Validate(%#v) = %v, want ErrInvalidAddress", a, err)
			}
			if _, err := json.Marshal(a); err == nil {
				t.Fatalf("Marshal(%#v) succeeded", a)
			}
		})
	}
}

func TestAddressCompare(t *testing.T) {
	t.Parallel()
	ordered := []Address{{}, Manager(), Cluster(0), Cluster(1), Cluster(10), Service("a"), Service("b"), AllClusters()}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got := ordered[i].compare(ordered[j]); got != want {
				t.Errorf("Compare(%v, %v) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func TestAddressInStruct(t *testing.T) {
	t.Parallel()
	type wire struct {
		From Address `json:"from"`
		To   Address `json:"to"`
	}
	in := wire{From: Service("twitch"), To: Cluster(0)}
	js, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(js) != `{"from":"service/twitch","to":"cluster/0"}` {
		t.Fatalf("Marshal = %s", js)
	}
	var out wire
	if err := json.Unmarshal(js, &out); err != nil || out != in {
		t.Fatalf("Unmarshal = %#v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"to":5}`), &out); err == nil {
		t.Fatal("Unmarshal of a number into Address succeeded")
	}
}

func FuzzAddressUnmarshal(f *testing.F) {
	for _, s := range []string{`"cluster/0"`, `"service/twitch"`, `"guild/1"`, `"cluster/*"`, `"none"`, `"manager"`, `"cluster/-0"`, `7`, `null`, `"service/\u0000"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var a Address
		if err := json.Unmarshal(data, &a); err != nil {
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("Unmarshal(%q) accepted invalid %#v: %v", data, a, err)
		}
		js, err := json.Marshal(a)
		if err != nil {
			t.Fatalf("Marshal(%#v) after Unmarshal(%q): %v", a, data, err)
		}
		var back Address
		if err := json.Unmarshal(js, &back); err != nil || back != a {
			t.Fatalf("round trip of %#v via %s = %#v, %v", a, js, back, err)
		}
		if p, err := ParseAddress(a.String()); err != nil || p != a {
			t.Fatalf("ParseAddress(String(%#v)) = %#v, %v", a, p, err)
		}
	})
}
