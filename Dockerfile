# syntax=docker/dockerfile:1
# nexus-gitops as a container: the package and its runtime dependencies in a virtualenv, plus
# git (which nexus-gitops drives). Runs as an unprivileged user; everything it writes goes to
# /tmp, so the root filesystem can be mounted read-only (see overlays/cronjob/).
#
#   docker build --build-arg VERSION=0.1.0 -t nexus-gitops:0.1.0 .
#   docker run --rm nexus-gitops:0.1.0 --help

ARG PYTHON_IMAGE=python:3.12-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what `pip install .` reads: no tests, no examples, no .git (see .dockerignore).
COPY pyproject.toml README.md ./
COPY nexus_gitops ./nexus_gitops
RUN python -m venv /opt/nexus-gitops \
 && /opt/nexus-gitops/bin/pip install --upgrade pip \
 && /opt/nexus-gitops/bin/pip install . \
 && /opt/nexus-gitops/bin/pip uninstall --yes pip \
 && /opt/nexus-gitops/bin/nexus-gitops --help >/dev/null

FROM ${PYTHON_IMAGE}
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ARG SOURCE=https://github.com/nexus-gitops/nexus-gitops
LABEL org.opencontainers.image.title="nexus-gitops" \
      org.opencontainers.image.description="Discover OpenStack APIs on Kubernetes and commit their Ingress and DNS config to a GitOps repository" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"

# git and CA certificates from the base's Debian release; not pinned to versions, which
# Debian replaces with each security update (so a pinned build would break).
# hadolint ignore=DL3008
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 nexus-gitops \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
      --shell /usr/sbin/nologin nexus-gitops

COPY --from=build /opt/nexus-gitops /opt/nexus-gitops

# HOME=/tmp: git and the kubernetes client look for files under $HOME; /tmp is the one
# writable place (an emptyDir when the root filesystem is read-only).
ENV PATH=/opt/nexus-gitops/bin:$PATH \
    HOME=/tmp \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["nexus-gitops"]
CMD ["--help"]
