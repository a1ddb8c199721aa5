# Build helpers; each target calls a script that also runs without make.
.PHONY: vsix

# make vsix PUBLISHER=contoso: the extension under that Marketplace publisher id (default: the
# publisher in vss-extension.json); the script checks the id before building anything.
export PUBLISHER

# vsix builds the Azure DevOps extension into task/dist/ (see docs/pipelines.md).
vsix:
	scripts/build-vsix.sh
