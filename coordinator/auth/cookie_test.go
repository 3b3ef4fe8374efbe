package auth

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := NewSessions("admin-token", time.Hour)
	s.now = func() time.Time { return now }
	rec := httptest.NewRecorder()
	if err := s.Issue(rec, false); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("cookie attributes: %+v", cookie)
	}
	req := func(value string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: CookieName, Value: value})
		return r
	}
	other := NewSessions("another-admin-token", time.Hour)
	other.now = s.now
	tampered := []byte(cookie.Value)
	tampered[3] ^= 1
	tests := []struct {
		name string
		s    *Sessions
		v    string
		want bool
	}{
		{"valid", s, cookie.Value, true},
		{"tampered payload", s, string(tampered), false},
		{"other admin token", other, cookie.Value, false},
		{"no signature", s, strings.Split(cookie.Value, ".")[0], false},
		{"garbage", s, "!!!.???", false},
		{"empty", s, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Verify(req(tt.v)); got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		now = now.Add(2 * time.Hour)
		if s.Verify(req(cookie.Value)) {
			t.Fatal("an expired cookie verified")
		}
	})
	t.Run("no cookie", func(t *testing.T) {
		if s.Verify(httptest.NewRequest("GET", "/", nil)) {
			t.Fatal("a request without cookie verified")
		}
	})
}
