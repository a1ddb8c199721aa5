package splice_test

import (
	"testing"

	"github.com/maestroplusplus/maestro/internal/deps/splice"
)

func TestApply(t *testing.T) {
	src := []byte("0123456789")
	tests := []struct {
		name  string
		edits []splice.Edit
		want  string
		err   bool
	}{
		{"none", nil, "0123456789", false},
		{"replace and insert", []splice.Edit{{Start: 5, End: 7, Text: "ab"}, {Start: 0, End: 0, Text: ">"}}, ">01234ab789", false},
		{"inserts keep order", []splice.Edit{{Start: 3, End: 3, Text: "a"}, {Start: 3, End: 3, Text: "b"}}, "012ab3456789", false},
		{"insert before replacement at same offset", []splice.Edit{{Start: 3, End: 5, Text: "X"}, {Start: 3, End: 3, Text: "i"}}, "012iX56789", false},
		{"delete", []splice.Edit{{Start: 0, End: 10}}, "", false},
		{"overlap", []splice.Edit{{Start: 1, End: 4}, {Start: 3, End: 5}}, "", true},
		{"out of range", []splice.Edit{{Start: 8, End: 11}}, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := splice.Apply(src, tc.edits)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v", err)
			}
			if !tc.err && string(got) != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if string(src) != "0123456789" {
				t.Fatal("source modified")
			}
		})
	}
}

func TestEditsRecycle(t *testing.T) {
	for _, n := range []int{0, 3, 1000, 2} {
		edits := splice.Edits(n)
		if len(edits) != 0 || cap(edits) < n {
			t.Fatalf("Edits(%d): len %d cap %d", n, len(edits), cap(edits))
		}
		for i := range n {
			edits = append(edits, splice.Edit{Start: i, End: i, Text: "x"})
		}
		out, err := splice.Apply(make([]byte, n), edits)
		if err != nil {
			t.Fatal(err)
		}
		splice.Recycle(edits)
		if got := string(out[:2*min(n, 1)]); n > 0 && got != "x\x00" {
			t.Fatalf("output changed after Recycle: %q", got)
		}
		for i, e := range edits[:cap(edits)][:n] {
			if e != (splice.Edit{}) {
				t.Fatalf("Recycle left edit %d set: %+v", i, e)
			}
		}
	}
}
