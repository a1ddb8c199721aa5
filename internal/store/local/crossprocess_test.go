package local_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/local"
	"github.com/maestroplusplus/maestro/internal/store/storetest"
)

// A child process of TestCrossProcess is this test binary started with these
// variables set; TestMain runs the child's part instead of the tests.
const (
	childDirEnv  = "MAESTRO_LOCAL_STORE_CHILD_DIR"
	childNameEnv = "MAESTRO_LOCAL_STORE_CHILD_NAME"

	increments = 50
	claims     = 50
	leases     = 20
	appends    = 50
	children   = 2
)

var childNames = [children]string{"child-a", "child-b"}

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		if err := runChild(dir, os.Getenv(childNameEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild races the other child in four phases, each begun together:
// create-only claims, increments of one counter, lease acquisitions, and
// appends to one object at the length each read. It prints one line per
// claim, lease or append it won.
func runChild(dir, name string) error {
	s, err := local.Open(filepath.Join(dir, "store"))
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := barrier(dir, "claims", name); err != nil {
		return err
	}
	for n := range claims {
		i := n
		if name == childNames[1] { // the children meet in the middle
			i = claims - 1 - n
		}
		_, err := s.Put(ctx, "claims/"+strconv.Itoa(i), []byte(name), store.Condition{CreateOnly: true})
		switch {
		case err == nil:
			fmt.Printf("claim %d\n", i)
		case !errors.Is(err, store.ErrPrecondition):
			return err
		}
	}
	if err := barrier(dir, "increments", name); err != nil {
		return err
	}
	for range increments {
		if _, err := storetest.Increment(ctx, s, "counter"); err != nil {
			return err
		}
	}
	if err := barrier(dir, "leases", name); err != nil {
		return err
	}
	for i := range leases {
		_, err := s.AcquireLease(ctx, "leases/"+strconv.Itoa(i), store.MinLeaseDuration)
		switch {
		case err == nil:
			fmt.Printf("lease %d\n", i)
		case !errors.Is(err, store.ErrLeased):
			return err
		}
	}
	if err := barrier(dir, "appends", name); err != nil {
		return err
	}
	for i := 0; i < appends; {
		data, _, err := s.Get(ctx, "log")
		if err != nil && !errors.Is(err, store.ErrNotExist) {
			return err
		}
		err = s.Append(ctx, "log", appendRecord(name, i), int64(len(data)))
		switch {
		case err == nil:
			fmt.Printf("append %d %s\n", len(data), appendRecord(name, i))
			i++
		case !errors.Is(err, store.ErrPrecondition):
			return err
		}
	}
	return nil
}

func appendRecord(name string, i int) []byte { return fmt.Appendf(nil, "[%s/%d]", name, i) }

// barrier marks name as ready for phase and waits until both children are.
func barrier(dir, phase, name string) error {
	if err := os.WriteFile(filepath.Join(dir, phase+"."+name), nil, 0o644); err != nil {
		return err
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Microsecond) {
		if m, _ := filepath.Glob(filepath.Join(dir, phase+".*")); len(m) == children {
			return nil
		}
	}
	return fmt.Errorf("%s: the other child never reached phase %s", name, phase)
}

func TestCrossProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	names := childNames
	cmds := make([]*exec.Cmd, len(names))
	outs := make([]*bytes.Buffer, len(names))
	for i, name := range names {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childNameEnv+"="+name)
		outs[i] = new(bytes.Buffer)
		cmd.Stdout = outs[i]
		cmd.Stderr = outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s: %v\n%s", names[i], err, outs[i])
		}
	}

	s := open(t, filepath.Join(dir, "store"))
	ctx := t.Context()
	data, _, err := s.Get(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	if want := strconv.Itoa(len(names) * increments); string(data) != want {
		t.Errorf("counter = %s after %d processes did %d increments each, want %s", data, len(names), increments, want)
	}

	won := map[string]string{} // "claim 3" → winner
	for i, out := range outs {
		sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
		for sc.Scan() {
			if prev, dup := won[sc.Text()]; dup {
				t.Errorf("both %s and %s won %q", prev, names[i], sc.Text())
			}
			won[sc.Text()] = names[i]
		}
	}
	for i := range claims {
		winner, ok := won["claim "+strconv.Itoa(i)]
		if !ok {
			t.Errorf("nobody won claim %d", i)
			continue
		}
		data, _, err := s.Get(ctx, "claims/"+strconv.Itoa(i))
		if err != nil || string(data) != winner {
			t.Errorf("claims/%d holds %q (%v), want the winner %s", i, data, err, winner)
		}
	}
	for i := range leases {
		if _, ok := won["lease "+strconv.Itoa(i)]; !ok {
			t.Errorf("nobody won lease %d", i)
		}
	}
	log, _, err := s.Get(ctx, "log")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(names) * appends; bytes.Count(log, []byte("[")) != want {
		t.Errorf("the log holds %d records, want %d: %s", bytes.Count(log, []byte("[")), want, log)
	}
	appended := 0
	for line := range won {
		var at int
		var rec string
		if _, err := fmt.Sscanf(line, "append %d %s", &at, &rec); err != nil {
			continue
		}
		appended++
		if at+len(rec) > len(log) || string(log[at:at+len(rec)]) != rec {
			t.Errorf("%q: the log does not hold that record there", line)
		}
	}
	if appended != len(names)*appends {
		t.Errorf("%d appends reported, want %d", appended, len(names)*appends)
	}
	if len(won) != claims+leases+appended {
		t.Errorf("%d wins reported, want %d: %v", len(won), claims+leases+appended, won)
	}
	counts := map[string]int{}
	for line, name := range won {
		counts[name+" "+strings.Fields(line)[0]]++
	}
	t.Logf("wins per process: %v", counts)
}
