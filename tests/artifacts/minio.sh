#!/usr/bin/env bash
# Prints the path of a MinIO artifact for the lab and the scenarios, making it first when the
# cache lacks it, with its sha256 beside it (<path>.sha256). The roles take both as
# controller-side artifacts, which is also how an air-gapped site installs.
#
#   server  the MinIO server binary. No site publishes MinIO binaries any more, so it is built
#           with `go install` from the Go module proxy at the pinned commit below (the last of
#           github.com/minio/minio, now archived), static and stripped. Needs Go 1.24 or later.
#   client  the wheel of the Python client the collection's modules use on the hosts.
#
# Usage: tests/artifacts/minio.sh [server|client]   (server by default; progress goes to stderr)
set -euo pipefail
server_version=v0.0.0-20260212201848-7aac2a2c5b7c
client_version=7.2.20
cache=${SELFHOST_ARTIFACT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/selfhost-stack}

build_server() {
  command -v go >/dev/null || { echo "building MinIO needs Go 1.24 or later" >&2; return 1; }
  echo "building MinIO $server_version with go install (once; cached in $1)" >&2
  CGO_ENABLED=0 GOBIN=$1 GOFLAGS=-buildvcs=false \
    go install -trimpath -ldflags "-s -w" "github.com/minio/minio@$server_version" >&2
}

download_client() {
  echo "downloading the minio $client_version wheel (once; cached in $1)" >&2
  "$(dirname "$0")/../../.venv/bin/pip" download -q --no-deps --only-binary :all: -d "$1" "minio==$client_version" >&2
}

case ${1:-server} in
  server) dir=$cache/minio-$server_version make=build_server ;;
  client) dir=$cache/minio-py-$client_version make=download_client ;;
  *) echo "usage: $0 server|client" >&2; exit 2 ;;
esac

# A partial download or build never lands in $dir: it is made in a scratch directory first.
if [ ! -s "$dir/sha256" ]; then
  mkdir -p "$cache"
  scratch=$(mktemp -d "$cache/make.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  "$make" "$scratch"
  artifact=$(find "$scratch" -maxdepth 1 -type f | head -n 1)
  sha256sum "$artifact" | cut -d' ' -f1 >"$scratch/sha256"
  echo "$dir/$(basename "$artifact")" >"$scratch/path"
  rm -rf "$dir" && mv "$scratch" "$dir"
fi
cat "$dir/path"
