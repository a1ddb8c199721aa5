# Build helpers; each target calls a script that also runs without make.
.PHONY: vsix

# vsix builds the Azure DevOps extension into task/dist/ (see docs/pipelines.md).
vsix:
	scripts/build-vsix.sh
