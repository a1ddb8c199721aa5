package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/store"
)

func TestValidateKey(t *testing.T) {
	cases := []struct {
		key string
		ok  bool
	}{
		{"a", true},
		{"builds/12.json", true},
		{"Microsoft.NETCore.App/10.0.0-preview.1", true},
		{"with space/ünï/😀", true},
		{".hidden/...", true},
		{strings.Repeat("k", 1024), true},
		{"", false},
		{strings.Repeat("k", 1025), false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{".", false},
		{"a/./b", false},
		{"..", false},
		{"a/../b", false},
		{`a\b`, false},
		{"a\x00b", false},
		{"a\x1fb", false},
		{"a\x7fb", false},
		{"a\rb", false},
	}
	for _, c := range cases {
		t.Run(c.key[:min(len(c.key), 40)], func(t *testing.T) {
			err := store.ValidateKey(c.key)
			if c.ok && err != nil {
				t.Fatalf("ValidateKey(%.40q) = %v, want nil", c.key, err)
			}
			if !c.ok && !errors.Is(err, store.ErrInvalidKey) {
				t.Fatalf("ValidateKey(%.40q) = %v, want ErrInvalidKey", c.key, err)
			}
		})
	}
}

func TestValidateLeaseDuration(t *testing.T) {
	cases := []struct {
		d  time.Duration
		ok bool
	}{
		{store.MinLeaseDuration, true},
		{30 * time.Second, true},
		{store.MaxLeaseDuration, true},
		{store.MinLeaseDuration - time.Nanosecond, false},
		{store.MaxLeaseDuration + time.Nanosecond, false},
		{0, false},
		{-time.Second, false},
	}
	for _, c := range cases {
		t.Run(c.d.String(), func(t *testing.T) {
			if err := store.ValidateLeaseDuration(c.d); (err == nil) != c.ok {
				t.Fatalf("ValidateLeaseDuration(%s) = %v, want ok=%v", c.d, err, c.ok)
			}
		})
	}
}

// FuzzValidateKey checks that every key ValidateKey accepts is safe to map
// onto a path or URL: no empty, "." or ".." segment, no control character
// or backslash, and at most 1024 bytes.
func FuzzValidateKey(f *testing.F) {
	for _, seed := range []string{"builds/1.json", "a/../b", "a//b", `a\b`, ".", "ü/😀", "a\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := store.ValidateKey(key)
		if err != nil {
			if !errors.Is(err, store.ErrInvalidKey) {
				t.Fatalf("ValidateKey(%q) = %v, not an ErrInvalidKey", key, err)
			}
			return
		}
		if len(key) == 0 || len(key) > 1024 {
			t.Fatalf("ValidateKey accepted a key of %d bytes", len(key))
		}
		for _, seg := range strings.Split(key, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("ValidateKey accepted %q with segment %q", key, seg)
			}
		}
		if strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
			t.Fatalf("ValidateKey accepted %q with a control character or backslash", key)
		}
	})
}
