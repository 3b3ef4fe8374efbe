package sdkproto

import "testing"

func TestSentryDSN(t *testing.T) {
	id := SentryProjectID("shop")
	if id != SentryProjectID("shop") || id == SentryProjectID("shop-2") {
		t.Fatalf("project ids: %s %s", id, SentryProjectID("shop-2"))
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			t.Fatalf("project id %q is not a number: Sentry SDKs refuse it", id)
		}
	}
	for _, c := range []struct{ edge, want string }{
		{"http://127.0.0.1:7070", "http://rvk_abc@127.0.0.1:7070/" + id},
		{"https://edge.example.com/", "https://rvk_abc@edge.example.com/" + id},
		{"https://cdn.example.com/rearview", "https://rvk_abc@cdn.example.com/rearview/" + id},
		{"not a url", ""},
	} {
		if got := SentryDSN(c.edge, "rvk_abc", "shop"); got != c.want {
			t.Errorf("SentryDSN(%q) = %q, want %q", c.edge, got, c.want)
		}
	}
}
