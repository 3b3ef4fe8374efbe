package route

import (
	"strings"
	"testing"
)

func TestNormalise(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://shop.example.com/products/123", "/products/:id"},
		{"https://shop.example.com/products/123?color=red#reviews", "/products/:id"},
		{"https://shop.example.com/", "/"},
		{"https://shop.example.com", "/"},
		{"", "/"},
		{"/checkout", "/checkout"},
		{"/checkout/", "/checkout"},
		{"https://x.test/orders/550e8400-e29b-41d4-a716-446655440000/items/7", "/orders/:id/items/:id"},
		{"https://x.test/u/550E8400-E29B-41D4-A716-446655440000", "/u/:id"},
		{"https://x.test/assets/d41d8cd98f00b204e9800998ecf8427e", "/assets/:id"},         // md5
		{"https://x.test/commit/da39a3ee5e6b4b0d3255bfef95601890afd80709", "/commit/:id"}, // sha1
		{"https://x.test/obj/507f1f77bcf86cd799439011", "/obj/:id"},                       // ObjectId
		{"https://x.test/share/Xk9fQ2mLp0sT7vZ3aB1c", "/share/:id"},                       // random token
		{"https://x.test/blog/my-first-post", "/blog/my-first-post"},                      // slug stays
		{"https://x.test/cafe/decade", "/cafe/decade"},                                    // hex-looking words stay
		{"https://x.test/api/v2/users", "/api/v2/users"},                                  // version segment stays
		{"https://x.test/search?q=shoes", "/search"},
		{"https://x.test/#/cart/42", "/"}, // fragment dropped
		{"https://x.test//double//slash", "/double/slash"},
		{"/a/b/c?x=1", "/a/b/c"},
		{"https://user:pw@x.test:8443/p/99", "/p/:id"},
		{"/users/:id", "/users/:id"}, // already normalised routes are stable
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Normalise(tt.in); got != tt.want {
				t.Errorf("Normalise(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	t.Run("long urls are bounded", func(t *testing.T) {
		long := "https://x.test"
		for range 100 {
			long += "/segment"
		}
		if got := Normalise(long); len(got) > maxRouteLen+5 {
			t.Errorf("len %d", len(got))
		}
	})
}

func FuzzNormalise(f *testing.F) {
	f.Add("https://shop.example.com/products/123?x=1#y")
	f.Add("/orders/550e8400-e29b-41d4-a716-446655440000")
	f.Add("::::/%zz")
	f.Fuzz(func(t *testing.T, s string) {
		r := Normalise(s)
		if r == "" || r[0] != '/' || len(r) > maxRouteLen+5 {
			t.Fatalf("Normalise(%q) = %q", s, r)
		}
		if Normalise(r) != r && !strings.HasSuffix(r, "…") {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, r, Normalise(r))
		}
	})
}
