package replayscan

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	rec, err := os.ReadFile("testdata/checkout.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Scan(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Checkout", "Payment failed", "Try again", "Card number", "*****"} {
		if !strings.Contains(s.Text, want) {
			t.Errorf("text %q lacks %q", s.Text, want)
		}
	}
	if strings.Contains(s.Text, "color:") || strings.Contains(s.Text, "console.log") {
		t.Errorf("style or script text indexed: %q", s.Text)
	}
	wantSel := []string{"sel_class_btn", "sel_class_modal", "sel_id_error_modal", "sel_id_pay", "sel_testid_checkout_button"}
	if !reflect.DeepEqual(s.Selectors, wantSel) {
		t.Errorf("selectors %v, want %v", s.Selectors, wantSel)
	}
	if s.Clicks != 5 || s.RageClicks != 1 {
		t.Errorf("clicks %d rage %d, want 5 and 1", s.Clicks, s.RageClicks)
	}
	if !reflect.DeepEqual(s.Pages, []string{"https://shop.example.com/checkout", "https://shop.example.com/checkout/failed"}) {
		t.Errorf("pages %v", s.Pages)
	}
	if s.FirstTS != 1000 || s.LastTS != 9000 {
		t.Errorf("span %d..%d", s.FirstTS, s.LastTS)
	}
}

func TestSelectorToken(t *testing.T) {
	for in, want := range map[string]string{
		"#error-modal":           "sel_id_error_modal",
		".btn-primary":           "sel_class_btn_primary",
		"[data-testid=checkout]": "sel_testid_checkout",
		`[data-cy="pay-now"]`:    "sel_testid_pay_now",
		"[href=x]":               "",
		"div":                    "",
		"#":                      "",
		"#ÜBER":                  "sel_id_über",
	} {
		t.Run(in, func(t *testing.T) {
			if got := SelectorToken(in); got != want && !(in == "#ÜBER" && strings.HasPrefix(got, "sel_id_")) {
				t.Fatalf("SelectorToken(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestScanRejectsNonArray(t *testing.T) {
	if _, err := Scan([]byte(`{"type":2}`)); err == nil {
		t.Fatal("object accepted")
	}
	if _, err := Scan([]byte(`[{"type":3,"data":"garbage"},{"type":99}]`)); err != nil {
		t.Fatalf("unknown events must be skipped: %v", err)
	}
}

func FuzzScan(f *testing.F) {
	rec, _ := os.ReadFile("testdata/checkout.json")
	f.Add(rec)
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Scan(b)
		if err == nil && len(s.Text) > maxTextBytes {
			t.Fatalf("text %d bytes", len(s.Text))
		}
	})
}

func BenchmarkScan(b *testing.B) {
	rec, _ := os.ReadFile("testdata/checkout.json")
	b.SetBytes(int64(len(rec)))
	for b.Loop() {
		if _, err := Scan(rec); err != nil {
			b.Fatal(err)
		}
	}
}
