package edge_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rearview-dev/rearview/edge"
	"github.com/rearview-dev/rearview/sdkproto"
)

// fixture is a tiny database (see testdata/README.md): 127.0.0.1 is in DE,
// 192.0.2.0/24 in FR, 2001:db8::/32 in JP; nothing else is known.
const fixture = "testdata/country.mmdb"

func openFixture(tb testing.TB) *edge.GeoIP {
	tb.Helper()
	g, err := edge.OpenGeoIP(fixture)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}

func TestGeoIPCountry(t *testing.T) {
	g := openFixture(t)
	cases := []struct {
		ip   string
		want string
	}{
		{"127.0.0.1", "DE"},
		{"::ffff:127.0.0.1", "DE"}, // a v4 client on a dual-stack listener
		{"192.0.2.200", "FR"},
		{"2001:db8::7", "JP"},
		{"198.51.100.1", ""},
		{"::1", ""},
	}
	for _, tc := range cases {
		t.Run(tc.ip, func(t *testing.T) {
			if got := g.Country(netip.MustParseAddr(tc.ip)); got != tc.want {
				t.Fatalf("Country(%s) = %q, want %q", tc.ip, got, tc.want)
			}
		})
	}
	if got := g.Country(netip.Addr{}); got != "" {
		t.Fatalf("Country of the zero address = %q", got)
	}
}

func TestOpenGeoIPFails(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a maxmind database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(t.TempDir(), "missing.mmdb"), garbage} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			_, err := edge.OpenGeoIP(path)
			if err == nil || !strings.Contains(err.Error(), "open geoip database "+path) {
				t.Fatalf("OpenGeoIP(%s): %v, want an error naming the file", path, err)
			}
		})
	}
}

// remoteAs serves h as if every connection came from addr.
func remoteAs(addr string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.RemoteAddr = addr
		h.ServeHTTP(w, r)
	})
}

// TestIngestCountryFromGeoIP posts from mapped and unknown addresses, with
// and without the trusted header: the header wins when it carries a code,
// the database answers otherwise, and the address itself is never
// published.
func TestIngestCountryFromGeoIP(t *testing.T) {
	cases := []struct {
		name   string
		remote string // "" keeps the real peer, 127.0.0.1
		header string
		want   string
	}{
		{"loopback from the database", "", "", "DE"},
		{"header wins", "", "fr", "FR"},
		{"unknown header code falls back", "", "XX", "DE"},
		{"other mapped address", "192.0.2.7:40000", "", "FR"},
		{"unknown address", "203.0.113.9:40000", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, edge.Config{CountryHeader: "CF-IPCountry", GeoIP: openFixture(t)})
			if tc.remote != "" {
				hs := httptest.NewServer(remoteAs(tc.remote, h.srv.Handler()))
				t.Cleanup(hs.Close)
				h.url = hs.URL
			}
			a := h.post(t, vector(t, "error-batch.json"), map[string]string{"CF-IPCountry": tc.header})
			if a.status != http.StatusAccepted {
				t.Fatalf("got %d %v", a.status, a.body)
			}
			s, err := h.js.Stream(context.Background(), sdkproto.StreamName)
			if err != nil {
				t.Fatal(err)
			}
			for seq := uint64(1); seq <= h.streamMsgs(t); seq++ {
				m, err := s.GetMsg(context.Background(), seq)
				if err != nil {
					t.Fatal(err)
				}
				if got := m.Header.Get(sdkproto.HeaderCountry); got != tc.want {
					t.Errorf("message %d (%s): country %q, want %q", seq, m.Subject, got, tc.want)
				}
				for _, ip := range []string{"127.0.0.1", "192.0.2.7", "203.0.113.9"} {
					if bytes.Contains(m.Data, []byte(ip)) || strings.Contains(fmt.Sprint(m.Header), ip) {
						t.Errorf("message %d carries the client IP %s", seq, ip)
					}
				}
			}
		})
	}
}
