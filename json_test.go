package megane

import (
	"reflect"
	"testing"

	disgojson "github.com/disgoorg/json/v2"
	goccy "github.com/goccy/go-json"

	"github.com/megane-go/megane/cluster"
)

func TestNewInstallsFastJSON(t *testing.T) {
	t.Parallel()
	m, err := New("MTIzNDU2Nzg5MDEyMzQ1Njc4.a.b", WithWorker(func() cluster.Worker { return cluster.WorkerFunc(nil) }))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	got := reflect.ValueOf(disgojson.Unmarshal).Pointer()
	want := reflect.ValueOf(goccy.Unmarshal).Pointer()
	if got != want {
		t.Fatalf("disgo's json.Unmarshal is not %s after New", FastJSONName)
	}
}
