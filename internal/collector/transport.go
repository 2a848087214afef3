package collector

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Transport returns an http.RoundTripper that sends through next
// (http.DefaultTransport if nil) and observes each round trip's time in h,
// labelled with the request's method (one of net/http's, else "other") and
// the answer's status class ("2xx" ... "5xx", or "error" when next failed).
// It never labels with the URL, which holds IDs and webhook tokens. The
// time ends when the headers arrive, not when the body has been read.
func Transport(next http.RoundTripper, h *prometheus.HistogramVec) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{next: next, h: h}
}

type transport struct {
	next http.RoundTripper
	h    *prometheus.HistogramVec
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	class := "error"
	if err == nil {
		class = statusClass(resp.StatusCode)
	}
	t.h.WithLabelValues(methodLabel(r.Method), class).Observe(time.Since(start).Seconds())
	return resp, err
}

func methodLabel(m string) string {
	switch m {
	case "", http.MethodGet:
		return http.MethodGet
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodHead, http.MethodOptions:
		return m
	}
	return "other"
}

func statusClass(code int) string {
	switch {
	case code < 100:
		return "other"
	case code < 200:
		return "1xx"
	case code < 300:
		return "2xx"
	case code < 400:
		return "3xx"
	case code < 500:
		return "4xx"
	case code < 600:
		return "5xx"
	}
	return "other"
}
