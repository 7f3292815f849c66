# syntax=docker/dockerfile:1
# certlookup: the API (`certlookup serve`), and with another command the scheduler
# (`certlookup scheduler`) or a migration (`certlookup db upgrade`). See docs/deploy.md.

ARG PYTHON_IMAGE=python:3.11-slim

# --- build: a virtualenv with the pinned runtime dependencies, then the package --------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /app

# Dependencies before the source, so this layer is rebuilt only when the lock or the
# dependency list changes. Only the runtime dependencies named in pyproject.toml are installed,
# each pinned by requirements.lock (which also holds the dev tools: pytest, ruff, playwright...).
COPY requirements.lock pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > runtime-requirements.txt \
    && pip install -r runtime-requirements.txt -c requirements.lock \
    && rm runtime-requirements.txt

# The package itself, installed editable: app/db.py finds the Alembic migrations beside the
# `app` package (/app/migrations), which a wheel would not carry.
COPY app ./app
COPY scrapers ./scrapers
COPY migrations ./migrations
COPY alembic.ini README.md* ./
RUN pip install --no-deps -e . \
    && python -m compileall -q app scrapers migrations

# --- runtime: the virtualenv and the source, run as an unprivileged user ---------------------
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 certlookup \
    && useradd --system --uid 10001 --gid certlookup --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin certlookup
# Same paths as in the build stage: the editable install records /app.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
# Only var/ is writable (the embedded SQLite database when DATABASE_URL is unset).
RUN mkdir -p var && chown certlookup:certlookup var
USER 10001:10001

EXPOSE 8000
# slim has no curl: ask /healthz with Python. urlopen raises on a non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["certlookup", "serve", "--host", "0.0.0.0", "--port", "8000"]
