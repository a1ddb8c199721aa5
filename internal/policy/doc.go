// Package policy judges whether a dependency pull request may merge: the
// merge policies a subscription or repository branch names, evaluated as pure
// logic over what the platform and the registry report. Nothing here reads a
// host, a repository or the store; the caller gathers a PullRequestState
// (one platform.Status read per evaluation, the files HeadPaths at the head
// commit and TargetPaths on the target branch, the tracked record's updates,
// the bot's identity and, through CollectBuilds, the builds of the head's
// dependencies) and calls Evaluate.
//
// # API
//
//	res := policy.Evaluate(policies, state)
//
// policies are the stored []maestro.MergePolicy (Standard expands into
// StandardMembers; an unknown name is a decisive failure, never ignored).
// res.Policies lists one PolicyResult per evaluated policy, in the order
// named (Standard's members in StandardMembers order, each policy once):
// Name, Outcome (pending / success / failure), Title (one line, for a check
// run's title or a status description), Message (what to do, Markdown) and
// Decisive. res.AllSucceeded says every policy succeeded (false for an
// empty list: no policy, no auto-merge). res.Decisive says some failure
// stays until a new head commit: a downgrade, a foreign commit, an
// incoherent graph, a newer version already on the target, a broken
// Version.Details.props or an unknown policy. A failing or pending check
// and a request for changes may clear by themselves and are not decisive.
//
// # Caching decisive results
//
// A decisive result depends only on the policies and the head commit, so the
// caller keeps it under CacheKey(policies, head) — the head commit plus a
// hash of the policies' names and properties — with the Result as the value,
// and skips both the platform read and Evaluate while the pull request's
// head and policies are unchanged. A new head commit, or a change of the
// policies, gives a new key; results that are not Decisive are never cached.
//
// # Policies
//
//   - AllChecksSuccessful {ignoreChecks: [names]}: every check on the head
//     commit succeeded. Our own checks (platform.IsPolicyCheck: check runs named
//     "Maestro auto-merge - ...", Azure DevOps statuses of genre "maestro")
//     never count, nor those
//     ignoreChecks names; no checks yet is pending; a failure lists each failed check
//     with its link.
//   - NoRequestedChanges: no reviewer's latest review requests changes
//     (GitHub CHANGES_REQUESTED; Azure DevOps votes -5 and -10).
//   - DontAutomergeDowngrades: no recorded dependency update goes to a lower
//     version or to a version that is not SemVer.
//   - NoNewerUpdateMerged: the target branch does not already have the same
//     or a newer version of a dependency the pull request moves.
//   - NoExtraCommits: every commit on the branch was authored by the bot.
//   - ValidateCoherency: the head's Version.Details.xml passes the coherency
//     pass (internal/deps/coherency) over the builds given, and no
//     repository is reached at two commits along product dependencies.
//   - VersionDetailsProps: eng/Version.Details.props, when present, is
//     imported by eng/Versions.props, shares no property with it and maps
//     one to one to the dependencies of eng/Version.Details.xml.
//   - Standard: all of the above, AllChecksSuccessful ignoring
//     DefaultIgnoredChecks plus any ignoreChecks given to Standard.
package policy
