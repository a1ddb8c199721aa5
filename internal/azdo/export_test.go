package azdo

// UnzipArtifact is unzipArtifact, for tests.
var UnzipArtifact = unzipArtifact
