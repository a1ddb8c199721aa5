package storeurl

import "testing"

func TestDefaultLocalDirWindows(t *testing.T) {
	got, err := defaultLocalDir("windows", func(name string) string {
		return map[string]string{"LocalAppData": `C:\Users\me\AppData\Local`, "HOME": "/ignored"}[name]
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := `C:\Users\me\AppData\Local\maestro\store`; got != want {
		t.Fatalf("defaultLocalDir(windows) = %q, want %q", got, want)
	}
	if _, err := defaultLocalDir("windows", func(string) string { return "" }); err == nil {
		t.Fatal("defaultLocalDir(windows) without LocalAppData succeeded")
	}
}
