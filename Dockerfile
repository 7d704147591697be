# Samskapa app image: the same commands as the README, on PostgreSQL and Redis by configuration.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/samskapa
RUN useradd --system --uid 10001 --home-dir /srv/samskapa samskapa

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
COPY app/__init__.py app/__init__.py
RUN pip install .

COPY app app
COPY frontend frontend
COPY migrations migrations
# Editable, so the app finds frontend/ and migrations/ beside the package.
RUN pip install --no-deps -e . && chown -R samskapa /srv/samskapa

USER samskapa
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"

# Migrations run once, from the compose file's `migrate` service, before the apps start.
CMD ["samskapa", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-migrate"]
