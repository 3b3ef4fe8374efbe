package testenv

import (
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/nats-io/nats.go"
)

func TestComponentsStart(t *testing.T) {
	t.Run("nats", func(t *testing.T) {
		ns := NATS(t)
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("minio", func(t *testing.T) {
		m := StartMinIO(t)
		if m.Endpoint == "" {
			t.Fatal("no endpoint")
		}
	})
	t.Run("chromium", func(t *testing.T) {
		ctx := Browser(t)
		ua, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.userAgent`))
		if err != nil {
			t.Fatal(err)
		}
		if ua == "" {
			t.Fatal("empty user agent")
		}
	})
}
