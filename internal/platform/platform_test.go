package platform_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

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
