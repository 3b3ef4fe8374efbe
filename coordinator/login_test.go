package coordinator_test

import (
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
)

func TestPlayerSignIn(t *testing.T) {
	s := start(t, nil)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	do := func(method, path, body string, hdr ...string) int {
		t.Helper()
		req, _ := http.NewRequest(method, s.api+path, strings.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	steps := []struct {
		name         string
		method, path string
		body         string
		hdr          []string
		want         int
	}{
		{"reads need sign-in", "GET", "/api/v1/events?project=shop", "", nil, http.StatusUnauthorized},
		{"wrong token", "POST", "/api/v1/login", `{"token":"nope"}`, nil, http.StatusUnauthorized},
		{"malformed body", "POST", "/api/v1/login", `{"token":`, nil, http.StatusBadRequest},
		{"project token is not an admin sign-in", "POST", "/api/v1/login", `{"token":"` + s.token + `"}`, nil, http.StatusUnauthorized},
		{"admin token", "POST", "/api/v1/login", `{"token":"` + admin + `"}`, nil, http.StatusNoContent},
		{"cookie reads events", "GET", "/api/v1/events?project=shop", "", nil, http.StatusOK},
		{"cookie reads config", "GET", "/api/v1/config", "", nil, http.StatusOK},
		{"cross-site write refused", "POST", "/api/v1/projects", `{"name":"x"}`, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"same-origin write allowed", "POST", "/api/v1/projects", `{"name":"x"}`, []string{"Sec-Fetch-Site", "same-origin"}, http.StatusCreated},
		{"logout", "POST", "/api/v1/logout", "", nil, http.StatusNoContent},
		{"signed out", "GET", "/api/v1/events?project=shop", "", nil, http.StatusUnauthorized},
	}
	for _, st := range steps {
		if got := do(st.method, st.path, st.body, st.hdr...); got != st.want {
			t.Fatalf("%s: %s %s = %d, want %d", st.name, st.method, st.path, got, st.want)
		}
	}
	// The cookie itself: HttpOnly and SameSite=Strict.
	req, _ := http.NewRequest("POST", s.api+"/api/v1/login", strings.NewReader(`{"token":"`+admin+`"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	sc := resp.Header.Get("Set-Cookie")
	if !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") {
		t.Fatalf("Set-Cookie = %q", sc)
	}
}
