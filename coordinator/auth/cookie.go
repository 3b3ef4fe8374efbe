package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/http"
	"strings"
	"time"
)

// CookieName is the player's session cookie.
const CookieName = "rv_session"

// Sessions issues and verifies the player's session cookies. A cookie is
// stateless: an expiry and a random nonce, signed with HMAC-SHA256 under a
// key derived from the admin token, so rotating the admin token signs every
// browser out.
type Sessions struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewSessions returns Sessions keyed by the admin token. ttl is how long a
// sign-in lasts; zero means 12 hours.
func NewSessions(adminToken string, ttl time.Duration) *Sessions {
	if ttl <= 0 {
		ttl = 12 * time.Hour
	}
	k := sha256.Sum256([]byte("rearview session cookie v1\x00" + adminToken))
	return &Sessions{key: k[:], ttl: ttl, now: time.Now}
}

var errBadCookie = errors.New("invalid session cookie")

// Issue sets a fresh session cookie on w. secure marks it Secure (set it
// when the player is served over HTTPS).
func (s *Sessions) Issue(w http.ResponseWriter, secure bool) error {
	var payload [24]byte
	exp := s.now().Add(s.ttl)
	binary.BigEndian.PutUint64(payload[:8], uint64(exp.Unix()))
	if _, err := rand.Read(payload[8:]); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     CookieName,
		Value:    base64.RawURLEncoding.EncodeToString(payload[:]) + "." + base64.RawURLEncoding.EncodeToString(s.sign(payload[:])),
		Path:     "/",
		Expires:  exp,
		MaxAge:   int(s.ttl / time.Second),
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteStrictMode,
	})
	return nil
}

// Clear removes the session cookie.
func (s *Sessions) Clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// Verify reports whether r carries a valid, unexpired session cookie.
func (s *Sessions) Verify(r *http.Request) bool {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return false
	}
	return s.verify(c.Value) == nil
}

func (s *Sessions) verify(v string) error {
	p64, m64, ok := strings.Cut(v, ".")
	if !ok {
		return errBadCookie
	}
	payload, err := base64.RawURLEncoding.DecodeString(p64)
	if err != nil || len(payload) != 24 {
		return errBadCookie
	}
	mac, err := base64.RawURLEncoding.DecodeString(m64)
	if err != nil || !hmac.Equal(mac, s.sign(payload)) {
		return errBadCookie
	}
	if s.now().Unix() >= int64(binary.BigEndian.Uint64(payload[:8])) {
		return errBadCookie
	}
	return nil
}

func (s *Sessions) sign(payload []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write(payload)
	return h.Sum(nil)
}
