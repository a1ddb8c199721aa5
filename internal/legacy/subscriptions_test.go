package legacy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/legacy"
	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/test/testenv"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.Shared(t, "fixtures", "legacy-versions-repo"), name))
	require.NoError(t, err)
	return b
}

func triggers(f *legacy.File) int {
	n := 0
	for _, s := range f.Subscriptions {
		n += len(s.Triggers)
	}
	return n
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		file                   string
		schema                 legacy.Schema
		actions, subs, trigger int
		warnings               int
	}{
		{"subscriptions.2016-05-04.initial-legacy-schema.json", legacy.Schema2016, 2, 2, 2, 0},
		{"subscriptions.2019-11-22.peak88.json", legacy.Schema2017, 23, 88, 438, 17},
		{"subscriptions.2024-07-08.final.json", legacy.Schema2017, 1, 2, 2, 0},
		{"test-subscriptions.json", legacy.Schema2017, 1, 2, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src := fixture(t, tt.file)
			variants := map[string][]byte{
				"as is":              src,
				"CRLF":               []byte(strings.ReplaceAll(string(src), "\n", "\r\n")),
				"no final newline":   []byte(strings.TrimRight(string(src), "\r\n")),
				"byte-order mark":    append([]byte("\xef\xbb\xbf"), src...),
				"CRLF and no ending": []byte(strings.TrimRight(strings.ReplaceAll(string(src), "\n", "\r\n"), "\r\n")),
			}
			var first *legacy.File
			for name, b := range variants {
				f, err := legacy.Parse(tt.file, b)
				require.NoError(t, err, name)
				assert.Equal(t, tt.schema, f.Schema, name)
				assert.Len(t, f.Actions, tt.actions, name)
				assert.Len(t, f.Subscriptions, tt.subs, name)
				assert.Equal(t, tt.trigger, triggers(f), name)
				assert.Len(t, f.Warnings, tt.warnings, name)
				if first == nil {
					first = f
				} else {
					assert.Equal(t, first.Subscriptions, f.Subscriptions, name)
				}
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	f, err := legacy.Parse("test-subscriptions.json", fixture(t, "test-subscriptions.json"))
	require.NoError(t, err)
	assert.Equal(t, []legacy.Action{{Name: "test-build-definition", VSOInstance: "devdiv.visualstudio.com", VSOProject: "DevDiv", BuildDefinitionID: 1768, Line: 4}}, f.Actions)
	require.Len(t, f.Subscriptions, 2)
	s := f.Subscriptions[0]
	assert.Equal(t, 0, s.Index)
	assert.Equal(t, 11, s.Line)
	assert.Equal(t, []string{"https://github.com/dotnet/versions/blob/main/Maestro/test/test-build-info.txt"}, s.Triggers)
	assert.Equal(t, 30*time.Second, s.Delay)
	assert.Equal(t, []legacy.Handler{{
		Action: "test-build-definition", SourceBranch: "eerhardt-patch-1", Line: 11,
		Parameters: []legacy.Parameter{
			{Name: "SimpleProperty", Value: "simple-value"},
			{Name: "ArgumentList", IsList: true, List: []string{"-one one-value", "-two two-value", "-three three-value"}},
		},
	}}, s.Handlers)
	assert.Equal(t, time.Duration(0), f.Subscriptions[1].Delay)
	assert.Equal(t, []legacy.Handler{{Action: "test-build-definition", Line: 29}}, f.Subscriptions[1].Handlers)

	old, err := legacy.Parse("old.json", fixture(t, "subscriptions.2016-05-04.initial-legacy-schema.json"))
	require.NoError(t, err)
	s = old.Subscriptions[1]
	assert.Equal(t, []string{"https://github.com/dotnet/versions/blob/master/build-info/dotnet/corefx/master/Latest.txt"}, s.Triggers,
		"a 2016 path gets the blob segment of the URL the matcher builds")
	require.Len(t, s.Handlers, 1)
	assert.Equal(t, "corefx-general", s.Handlers[0].Action)
	assert.Equal(t, "ScriptFileName", s.Handlers[0].Parameters[0].Name)
	assert.Equal(t, "UpdateDependencies.ps1", s.Handlers[0].Parameters[0].Value)
	assert.Equal(t, "Arguments", s.Handlers[0].Parameters[1].Name)
	assert.Len(t, s.Handlers[0].Parameters[1].List, 5)
}

// broken replaces old (which must occur once) in the test file by new.
func broken(t *testing.T, old, new string) []byte {
	t.Helper()
	src := string(fixture(t, "test-subscriptions.json"))
	require.Equal(t, 1, strings.Count(src, old), "%q must occur once", old)
	return []byte(strings.Replace(src, old, new, 1))
}

func TestParseBroken(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"unknown subscription member", `"delay": "00:00:30",`, `"delay": "00:00:30", "dealy": 1,`,
			`t.json:16: subscriptions[0].dealy: unknown member "dealy"`},
		{"unknown action member", `"vsoProject": "DevDiv",`, `"vsoProject": "DevDiv", "project": "x",`,
			`t.json:6: actions.test-build-definition.project: unknown member "project"`},
		{"unknown argument member", `"vsoSourceBranch": "eerhardt-patch-1",`, `"vsoSourceBranch": "eerhardt-patch-1", "sourceBranch": "x",`,
			`t.json:18: subscriptions[0].actionArguments.sourceBranch: unknown member`},
		{"unknown top-level member", `"subscriptions": [`, `"subscription": 1, "subscriptions": [`,
			`t.json:10: subscription: unknown member`},
		{"missing action", `"action": "test-build-definition",
      "delay"`, `"delay"`, `t.json:11: subscriptions[0].action: is missing`},
		{"missing triggerPaths", `"triggerPaths": [
        "https://github.com/dotnet/cli/blob/feature/msbuild/**/*"
      ],`, ``, `t.json:29: subscriptions[1].triggerPaths: is missing`},
		{"missing definition id", `"buildDefinitionId": 1768`, `"vsoX": 1`,
			`t.json:4: actions.test-build-definition.buildDefinitionId: is missing`},
		{"definition id not a number", `"buildDefinitionId": 1768`, `"buildDefinitionId": "1768"`,
			`t.json:7: actions.test-build-definition.buildDefinitionId: must be a number, not a string`},
		{"definition id negative", `"buildDefinitionId": 1768`, `"buildDefinitionId": -3`,
			`t.json:7: actions.test-build-definition.buildDefinitionId: -3 is not a build definition id`},
		{"action that does not exist", `"action": "test-build-definition"
    }`, `"action": "test-build"
    }`, `t.json:33: subscriptions[1].action: no action is named "test-build"; add it to actions or name one of: test-build-definition`},
		{"trigger not on github", `https://github.com/dotnet/cli/blob`, `https://gitlab.com/dotnet/cli/blob`,
			`t.json:31: subscriptions[1].triggerPaths[0]: "https://gitlab.com/dotnet/cli/blob/feature/msbuild/**/*" is not an https://github.com/ URL`},
		{"trigger with inner wildcard", `https://github.com/dotnet/cli/blob/feature/msbuild/**/*`, `https://github.com/dotnet/cli/blob/feature/*/x`,
			`t.json:31: subscriptions[1].triggerPaths[0]: "https://github.com/dotnet/cli/blob/feature/*/x" has a wildcard that is not a final /**/*`},
		{"trigger without a path", `https://github.com/dotnet/cli/blob/feature/msbuild/**/*`, `https://github.com/dotnet/cli/blob/`,
			`subscriptions[1].triggerPaths[0]: "https://github.com/dotnet/cli/blob/" names no branch and path`},
		{"trigger not a string", `"https://github.com/dotnet/cli/blob/feature/msbuild/**/*"`, `42`,
			`t.json:31: subscriptions[1].triggerPaths[0]: must be a string, not a number`},
		{"delay without seconds", `"delay": "00:00:30"`, `"delay": "30"`,
			`t.json:16: subscriptions[0].delay: "30" is not a delay; write hh:mm:ss`},
		{"delay out of range", `"delay": "00:00:30"`, `"delay": "00:61:00"`,
			`t.json:16: subscriptions[0].delay: "00:61:00" is out of range`},
		{"delay a number", `"delay": "00:00:30"`, `"delay": 30`,
			`t.json:16: subscriptions[0].delay: must be a string, not a number`},
		{"parameter a number", `"SimpleProperty": "simple-value"`, `"SimpleProperty": 5`,
			`t.json:20: subscriptions[0].actionArguments.vsoBuildParameters.SimpleProperty: must be a string or an array of strings, not a number`},
		{"parameter list of numbers", `"-two two-value",`, `2,`,
			`t.json:23: subscriptions[0].actionArguments.vsoBuildParameters.ArgumentList[1]: must be a string, not a number`},
		{"duplicate action", `  "subscriptions": [`, `  "actions": {},
  "subscriptions": [`, `t.json:10: actions: is given twice (first on line 2)`},
		{"subscription not an object", `    {
      "triggerPaths": [
        "https://github.com/dotnet/cli`, `    7, {
      "triggerPaths": [
        "https://github.com/dotnet/cli`, `t.json:29: subscriptions[1]: must be an object, not a number`},
		{"malformed JSON", `"action": "test-build-definition"
    }`, `"action": "test-build-definition"
    }}`, `t.json:34:6: malformed JSON: expected , or ] after an array item`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := legacy.Parse("t.json", broken(t, tt.old, tt.new))
			require.Error(t, err)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseBroken2016(t *testing.T) {
	src := string(fixture(t, "subscriptions.2016-05-04.initial-legacy-schema.json"))
	tests := []struct{ name, old, new, want string }{
		{"unknown action", `"maestroAction": "cli-dependencies"`, `"maestroAction": "cli-deps"`,
			`o.json:22: subscriptions[0].handlers[0].maestroAction: no action is named "cli-deps"`},
		{"missing maestroAction", `"maestroAction": "cli-dependencies"`, `"Other": "x"`,
			`o.json:21: subscriptions[0].handlers[0].maestroAction: is missing`},
		{"unknown member", `"path": "https://github.com/dotnet/versions/master/build-info/dotnet/corefx/master/Latest.txt",`,
			`"path": "https://github.com/dotnet/versions/master/build-info/dotnet/corefx/master/Latest.txt", "delay": "00:01:00",`,
			`o.json:27: subscriptions[1].delay: unknown member "delay"; a subscription of this schema (2016) has path and handlers`},
		{"bad path", `https://github.com/dotnet/versions/master/build-info/dotnet/corefx/release`, `http://github.com/dotnet/versions/master/build-info/dotnet/corefx/release`,
			`o.json:18: subscriptions[0].path: "http://github.com/dotnet/versions/master/build-info/dotnet/corefx/release/1.0.0-rc2/Latest.txt" is not an https://github.com/ URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, 1, strings.Count(src, tt.old))
			_, err := legacy.Parse("o.json", []byte(strings.Replace(src, tt.old, tt.new, 1)))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	src := broken(t, `"delay": "00:00:30",`, `"delay": "soon", "x": 1,`)
	_, err := legacy.Parse("t.json", src)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "t.json has 2 problem(s)")
	assert.Contains(t, err.Error(), `subscriptions[0].delay: "soon" is not a delay`)
	assert.Contains(t, err.Error(), `subscriptions[0].x: unknown member "x"`)
}

func TestParseDelay(t *testing.T) {
	good := map[string]time.Duration{
		"00:00:30": 30 * time.Second, "00:10:00": 10 * time.Minute, "1:02:03": time.Hour + 2*time.Minute + 3*time.Second,
		"1.00:00:00": 24 * time.Hour, "00:00:01.5": 1500 * time.Millisecond,
	}
	for s, want := range good {
		d, err := legacy.ParseDelay(s)
		require.NoError(t, err, s)
		assert.Equal(t, want, d, s)
	}
	for _, s := range []string{"", "10", "10m", "00:10", "-00:10:00", "24:00:00", "00:00:60", "31.00:00:00", " 00:10:00"} {
		_, err := legacy.ParseDelay(s)
		assert.Error(t, err, s)
	}
}

// FuzzParse: Parse never panics, and what it accepts is consistent: every
// handler names a parsed action and every trigger is a github.com URL.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"subscriptions.2016-05-04.initial-legacy-schema.json", "subscriptions.2024-07-08.final.json", "test-subscriptions.json"} {
		f.Add(fixture(f, name))
	}
	f.Add([]byte(`{"actions":{},"subscriptions":[]}`))
	f.Add([]byte(`{"actions":{"a":{"vsoInstance":"h","vsoProject":"p","buildDefinitionId":1}},"subscriptions":[{"path":"https://github.com/o/r/b/f","handlers":[{"maestroAction":"a"}]}]}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := legacy.Parse("f.json", src)
		if err != nil {
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			return
		}
		for _, s := range file.Subscriptions {
			for _, h := range s.Handlers {
				_, ok := file.Action(h.Action)
				assert.True(t, ok, "handler names action %q that did not parse", h.Action)
			}
			for _, tr := range s.Triggers {
				assert.True(t, strings.HasPrefix(strings.ToLower(tr), "https://github.com/"), tr)
			}
		}
	})
}
