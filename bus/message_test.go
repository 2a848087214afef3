package bus

import (
	"encoding/json"
	"math"
	"testing"
)

func TestPayloadJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      any
		want    string
		wantErr bool
	}{
		{"nil", nil, "", false},
		{"raw kept as is", json.RawMessage(`{"a" : 1}`), `{"a" : 1}`, false},
		{"value encoded", map[string]int{"a": 1}, `{"a":1}`, false},
		{"zero value", 0, `0`, false},
		{"unencodable", math.Inf(1), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := payloadJSON(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if string(got) != tt.want {
				t.Errorf("payloadJSON(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
