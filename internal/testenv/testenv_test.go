package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
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
	t.Run("minio stops and starts with its data", func(t *testing.T) {
		m := StartMinIO(t)
		c, err := minio.New(m.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := c.MakeBucket(ctx, "kept", minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
		m.Stop(t)
		short, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := c.ListBuckets(short); err == nil {
			t.Fatal("a stopped MinIO answered")
		}
		m.Start(t)
		ok, err := c.BucketExists(ctx, "kept")
		if err != nil || !ok {
			t.Fatalf("bucket after restart: %v %v", ok, err)
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
