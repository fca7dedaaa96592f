# syntax=docker/dockerfile:1
# observe: the API (`observe serve`), the web UI (`observe ui`) and the demo mesh (`python -m observe.demo`)
# from one image. Build: docker build -t observe:dev .
ARG PYTHON_IMAGE=python:3.12-slim-bookworm

# ---- build: a virtualenv with observe and its UI extra; nothing of the toolchain reaches the runtime image ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/observe
COPY pyproject.toml README.md LICENSE ./
COPY observe ./observe
COPY dashboards ./dashboards
# waitress: the production WSGI server `observe ui` uses when it is installed. Dash serves dashboards/assets
# from the installed package, so they are copied in if the wheel left them out.
RUN /opt/observe/bin/pip install ".[ui]" "waitress>=3.0" \
 && /opt/observe/bin/python -c "import pathlib, shutil, dashboards; \
dst = pathlib.Path(dashboards.__file__).parent / 'assets'; \
dst.is_dir() or shutil.copytree('dashboards/assets', dst)"
RUN /opt/observe/bin/python -m compileall -q /opt/observe \
 && /opt/observe/bin/observe serve --help >/dev/null \
 && /opt/observe/bin/python -c "import dashboards.app, observe.demo.mesh"

# ---- runtime: slim, non-root, read-only friendly (writes only to /data and /tmp) ----
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="observe" \
      org.opencontainers.image.description="Observability aggregation for Istio meshes" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 observe \
 && useradd --system --uid 10001 --gid observe --home-dir /data --no-create-home --shell /usr/sbin/nologin observe \
 && mkdir -p /data/rules \
 && chown -R observe:observe /data
COPY --from=build /opt/observe /opt/observe
ENV PATH=/opt/observe/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OBSERVE_HOST=0.0.0.0 \
    OBSERVE_AUDIT_DB=/data/observe-audit.sqlite3 \
    OBSERVE_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz
WORKDIR /data
USER 10001:10001
# 8080 API (+ OTLP/HTTP at /v1/traces), 8050 UI, 4318 the optional OTLP-only listener (--otlp-port 4318).
EXPOSE 8080 8050 4318
# No curl in a slim image: python does the probe. The UI or the demo set OBSERVE_HEALTHCHECK_URL to their own.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen(os.environ['OBSERVE_HEALTHCHECK_URL'], timeout=2).status == 200 else 1)"]
ENTRYPOINT ["observe"]
CMD ["serve"]
