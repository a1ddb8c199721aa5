package platform_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/platform"
)

func TestIsPolicyCheck(t *testing.T) {
	for name, want := range map[string]bool{
		"Maestro auto-merge - AllChecksSuccessful": true,
		"maestro/AllChecksSuccessful":              true,
		"Maestro/Standard":                         true,
		"maestro":                                  false,
		"build":                                    false,
		"ci/maestro":                               false,
		"Maestro auto-merge":                       false,
	} {
		assert.Equal(t, want, platform.IsPolicyCheck(name), name)
	}
}

func TestFailureNotification(t *testing.T) {
	failing := []platform.PolicyResult{{Name: "AllChecksSuccessful", State: platform.CheckFailure, Message: "Check build failed: https://ci.example/1"}}
	tests := []struct {
		tags, who string
	}{
		{"@dotnet/runtime-infra", "@dotnet/runtime-infra"},
		{"@dotnet/runtime-infra;@jane", "@dotnet/runtime-infra @jane"},
		{" jane , @joe;; ", "@jane @joe"},
		{"", ""},
		{" ; ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.tags, func(t *testing.T) {
			got := platform.FailureNotification(tt.tags, failing)
			if tt.who == "" {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, "Notification for subscribed users: "+tt.who+"\n\n"+
				"This dependency-update pull request fails its merge policies, so it will not be merged automatically. "+
				"The failures may come from changes in your repository; please take a look.\n\n"+
				"- AllChecksSuccessful: Check build failed: https://ci.example/1\n\n"+
				"You are tagged because the Maestro++ subscription of this pull request names you in pullRequestFailureNotificationTags; "+
				"`maestro subscription update --failure-notification-tags` changes that.\n", got)
		})
	}
}

func TestSplitMessage(t *testing.T) {
	tests := []struct{ message, title, body string }{
		{"Update dependencies", "Update dependencies", ""},
		{"Update dependencies\n", "Update dependencies", ""},
		{"Update dependencies\n\nFrom build 1\n\n- a\n", "Update dependencies", "From build 1\n\n- a"},
		{"Update dependencies\nFrom build 1", "Update dependencies", "From build 1"},
	}
	for _, tt := range tests {
		t.Run(tt.message, func(t *testing.T) {
			title, body := platform.SplitMessage(tt.message)
			assert.Equal(t, tt.title, title)
			assert.Equal(t, tt.body, body)
		})
	}
}

func TestMergeOptionsValidate(t *testing.T) {
	head := "0123456789abcdef0123456789abcdef01234567"
	assert.NoError(t, platform.MergeOptions{Head: head, Message: "m"}.Validate())
	assert.NoError(t, platform.MergeOptions{Head: head + "0123456789abcdef01234567", Message: "m"}.Validate(), "a SHA-256 commit id")
	for name, o := range map[string]platform.MergeOptions{
		"no head":         {Message: "m"},
		"a branch name":   {Head: "main", Message: "m"},
		"upper case":      {Head: strings.ToUpper(head), Message: "m"},
		"no message":      {Head: head},
		"a blank message": {Head: head, Message: " \n"},
	} {
		err := o.Validate()
		assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err), "%s: %v", name, err)
	}
}
