package registry_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/maestroplusplus/maestro/internal/maestro"
	"github.com/maestroplusplus/maestro/internal/registry"
	"github.com/maestroplusplus/maestro/internal/store"
	"github.com/maestroplusplus/maestro/internal/store/mem"
)

// TestRepositoryPolicyMergeMethod: the merge method is stored spelled out
// (none given is squash), an unknown one is refused before anything is
// written, native with auto-merge off is kept, and a policy written before
// merge methods existed reads as squash.
func TestRepositoryPolicyMergeMethod(t *testing.T) {
	ctx := context.Background()
	const repo = "https://github.com/dotnet/runtime"
	pol := func(branch, method string, autoMerge bool) maestro.RepositoryBranchPolicy {
		return maestro.RepositoryBranchPolicy{Repository: repo, Branch: branch, AutoMerge: autoMerge, MergeMethod: method, MergePolicies: []maestro.MergePolicy{}}
	}

	t.Run("stored", func(t *testing.T) {
		r := registry.New(mem.New())
		for _, tt := range []struct {
			branch, method string
			autoMerge      bool
			want           string
		}{
			{"none", "", true, maestro.MergeMethodSquash},
			{"squash", maestro.MergeMethodSquash, true, maestro.MergeMethodSquash},
			{"native", maestro.MergeMethodNative, true, maestro.MergeMethodNative},
			{"native-off", maestro.MergeMethodNative, false, maestro.MergeMethodNative},
		} {
			require.NoError(t, r.SetRepositoryPolicy(ctx, pol(tt.branch, tt.method, tt.autoMerge)), tt.branch)
			got, err := r.RepositoryPolicy(ctx, repo, tt.branch)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.MergeMethod, tt.branch)
			assert.Equal(t, tt.autoMerge, got.AutoMerge, tt.branch)
		}
		// set replaces: a policy set again without a method is squash again.
		require.NoError(t, r.SetRepositoryPolicy(ctx, pol("native", "", true)))
		got, err := r.RepositoryPolicy(ctx, repo, "native")
		require.NoError(t, err)
		assert.Equal(t, maestro.MergeMethodSquash, got.MergeMethod)
	})

	t.Run("unknown method writes nothing", func(t *testing.T) {
		r := registry.New(mem.New())
		require.NoError(t, r.SetRepositoryPolicy(ctx, pol("main", maestro.MergeMethodNative, true)))
		for _, bad := range []string{"merge", "rebase", "Native", " squash", "squash\n"} {
			err := r.SetRepositoryPolicy(ctx, pol("main", bad, true))
			require.Error(t, err, "%q", bad)
			assert.Equal(t, maestro.KindInvalid, maestro.KindOf(err))
			assert.EqualError(t, err, `repository policy https://github.com/dotnet/runtime@main: mergeMethod `+strconv.Quote(bad)+` is unknown; use squash or native`)
			err = r.SetRepositoryPolicy(ctx, pol("release/10.0", bad, true))
			require.Error(t, err)
			_, err = r.RepositoryPolicy(ctx, repo, "release/10.0")
			assert.Equal(t, maestro.KindNotFound, maestro.KindOf(err), "a new policy with %q was not written", bad)
		}
		got, err := r.RepositoryPolicy(ctx, repo, "main")
		require.NoError(t, err)
		assert.Equal(t, maestro.MergeMethodNative, got.MergeMethod, "the stored policy is unchanged")
	})

	t.Run("written before merge methods", func(t *testing.T) {
		st := mem.New()
		_, err := st.Put(ctx, "config/repository-policies.json",
			[]byte(`{"policies":[{"repository":"`+repo+`","branch":"main","mergePolicies":[{"name":"Standard"}],"autoMerge":true}]}`), store.Condition{})
		require.NoError(t, err)
		r := registry.New(st)
		got, err := r.RepositoryPolicy(ctx, repo, "main")
		require.NoError(t, err)
		assert.Equal(t, maestro.MergeMethodSquash, got.MergeMethod)
		all, err := r.RepositoryPolicies(ctx)
		require.NoError(t, err)
		require.Len(t, all, 1)
		assert.Equal(t, maestro.MergeMethodSquash, all[0].MergeMethod)
	})
}
