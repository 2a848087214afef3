package testutil

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// CheckPrinting formats each of vs every way a log line, a test failure or
// a panic message might (fmt's %v, %+v, %#v and %s, and slog's text and
// JSON handlers) and fails the test if the output holds secret or lacks
// want (fmt) or wantAttr (slog, for example "count=16").
func CheckPrinting(t testing.TB, secret, want, wantAttr string, vs ...any) {
	t.Helper()
	var logs bytes.Buffer
	textLog := slog.New(slog.NewTextHandler(&logs, nil))
	jsonLog := slog.New(slog.NewJSONHandler(&logs, nil))
	for _, v := range vs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, secret) || !strings.Contains(out, want) {
				t.Errorf("%s of %T = %q: holds the secret or lacks %q", verb, v, out, want)
			}
		}
		textLog.Info("x", slog.Any("v", v))
		jsonLog.Info("x", slog.Any("v", v))
	}
	if out := logs.String(); strings.Contains(out, secret) || !strings.Contains(out, wantAttr) {
		t.Errorf("slog output %q holds the secret or lacks %q", out, wantAttr)
	}
}
