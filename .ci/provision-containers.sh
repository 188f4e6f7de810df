#!/usr/bin/env bash
# Container tooling for CI on a machine without a Docker daemon: Debian's buildah (builds) and
# podman (runs), a containers.conf that unprivileged CI runners accept, and a stand-in for the python base image
# when its registry is unreachable. Idempotent: a re-run on a provisioned machine takes seconds.
#
#   .ci/provision-containers.sh            # prints the base image reference last
#   BASE_IMAGE=... .ci/provision-containers.sh
#
# The stand-in base is a Debian bookworm minbase with the distribution's python3 (3.11, as the
# pinned python:3.11-slim-bookworm), built with debootstrap from the machine's configured Debian
# mirror and imported with `podman import`. It stands in only for local builds and CI; the
# Dockerfile's default base is unchanged.
set -euo pipefail

cd "$(dirname "$0")/.."
BASE_IMAGE=${BASE_IMAGE:-localhost/qa-python-base:bookworm}
# What the stand-in stands in for, from the Dockerfile (without the digest); `make image` finds
# the stand-in by this label (infra/local_image.py).
REAL_BASE=$(sed -n 's/^ARG PYTHON_IMAGE=\([^@]*\).*/\1/p' service/Dockerfile)
STAND_IN_LABEL=ai.qa.stand-in-for
PACKAGES=(podman buildah runc debootstrap uidmap fuse-overlayfs)
CONF=/etc/containers/containers.conf

log() { echo "provision: $*" >&2; }

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# CI runners that refuse setrlimit make every container fail with the engine's default ulimits.
if ! grep -qs '^default_ulimits = \[\]' "$CONF"; then
  mkdir -p "$(dirname "$CONF")"
  if grep -qs '^\[containers\]' "$CONF"; then
    sed -i '/^\[containers\]/a default_ulimits = []' "$CONF"
  else
    printf '[containers]\ndefault_ulimits = []\n' >>"$CONF"
  fi
  log "wrote $CONF"
fi

debian_mirror() {
  # The first Debian archive the machine's apt sources name (deb822 or one-line format).
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | awk '{print $2}' | grep -v -- '-security' | head -n1 || true)
  if [[ -z "$uri" ]]; then
    uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | awk '{for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) {print $i; exit}}' \
      | grep -v -- '-security' | head -n1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

if [[ -n "$(podman images -q --filter "label=$STAND_IN_LABEL=$REAL_BASE" --filter "reference=$BASE_IMAGE")" ]]; then
  log "stand-in base $BASE_IMAGE for $REAL_BASE present"
else
  rootfs=$(mktemp -d /var/tmp/qa-base.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  mirror=$(debian_mirror)
  log "debootstrap bookworm from $mirror (a few minutes)"
  debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
    bookworm "$rootfs" "$mirror" >/dev/null
  # What the slim python image leaves out too: package caches and lists.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --change "LABEL $STAND_IN_LABEL=$REAL_BASE" \
    - "$BASE_IMAGE" >/dev/null
  log "imported $BASE_IMAGE"
fi
echo "$BASE_IMAGE"
