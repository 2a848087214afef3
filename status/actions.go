package status

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/megane-go/megane/cluster"
)

// authorize reports whether r carries the admin token; if not, it has
// answered r (403 without a configured token, 401 otherwise) and logged
// the refusal. The token is never logged.
func (h *handler) authorize(w http.ResponseWriter, r *http.Request, action string) bool {
	if h.cfg.token == "" {
		h.cfg.log.Warn("status action refused: no admin token configured",
			slog.String("action", action), slog.String("remote", r.RemoteAddr))
		writeError(w, http.StatusForbidden, "actions are disabled: no admin token is configured (status.WithToken)")
		return false
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !tokenEqual(got, h.cfg.token) {
		h.cfg.log.Warn("status action refused: missing or wrong admin token",
			slog.String("action", action), slog.String("remote", r.RemoteAddr))
		w.Header().Set("WWW-Authenticate", `Bearer realm="megane"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong admin token")
		return false
	}
	return true
}

// tokenEqual compares two tokens in constant time. Both are hashed first,
// so that not even the length of the configured token leaks through the
// time a comparison takes.
func tokenEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// restart serves POST /clusters/{id}/restart?kind=K.
func (h *handler) restart(w http.ResponseWriter, r *http.Request) {
	if !h.authorize(w, r, "restart") {
		return
	}
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 0 {
		writeError(w, http.StatusBadRequest, "bad cluster ID "+strconv.Quote(r.PathValue("id")))
		return
	}
	kind, ok := h.kind(w, r)
	if !ok {
		return
	}
	h.act(w, r, "restart", []slog.Attr{slog.Int("cluster", id), slog.String("kind", kind.String())},
		func(ctx context.Context) error { return h.src.Restart(ctx, id, kind) })
}

// rollingRestart serves POST /rolling-restart?kind=K.
func (h *handler) rollingRestart(w http.ResponseWriter, r *http.Request) {
	if !h.authorize(w, r, "rolling_restart") {
		return
	}
	kind, ok := h.kind(w, r)
	if !ok {
		return
	}
	h.act(w, r, "rolling_restart", []slog.Attr{slog.String("kind", kind.String())},
		func(ctx context.Context) error { return h.src.RollingRestart(ctx, kind) })
}

// kind reads the kind query parameter, answering 400 if it is bad.
func (h *handler) kind(w http.ResponseWriter, r *http.Request) (cluster.RestartKind, bool) {
	s := r.URL.Query().Get("kind")
	k, ok := parseKind(s)
	if !ok {
		writeError(w, http.StatusBadRequest, "bad restart kind "+strconv.Quote(s)+": want full, resume or worker")
	}
	return k, ok
}

// act runs an authorized action, logs it and writes its result.
func (h *handler) act(w http.ResponseWriter, r *http.Request, action string, attrs []slog.Attr, run func(context.Context) error) {
	attrs = append([]slog.Attr{slog.String("action", action), slog.String("remote", r.RemoteAddr)}, attrs...)
	h.cfg.log.LogAttrs(r.Context(), slog.LevelInfo, "status action started", attrs...)
	start := time.Now()
	err := run(r.Context())
	attrs = append(attrs, slog.Duration("took", time.Since(start)))
	if err != nil {
		h.cfg.log.LogAttrs(r.Context(), slog.LevelWarn, "status action failed", append(attrs, slog.String("err", err.Error()))...)
		writeError(w, errorCode(h.src, err), err.Error())
		return
	}
	h.cfg.log.LogAttrs(r.Context(), slog.LevelInfo, "status action done", attrs...)
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "action": action})
}

// errorCode is the HTTP status of an action's error: the source's own
// answer, else one from the errors every source shares.
func errorCode(src Source, err error) int {
	if code := src.StatusCode(err); code != 0 {
		return code
	}
	switch {
	case errors.Is(err, cluster.ErrRestartPending):
		return http.StatusConflict
	case errors.Is(err, cluster.ErrInvalidRestartKind):
		return http.StatusBadRequest
	case errors.Is(err, cluster.ErrStopped):
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// writeError writes {"error": msg} with code.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
