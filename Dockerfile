# Image of the Discord question-answering bot: `docker compose up -d` (see README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .

# Default corpus and configuration; docker-compose.yml mounts the host's copies over them (read-only).
COPY seeds ./seeds
COPY config ./config

# Unprivileged user; the database lives in /app/data (a named volume in docker-compose.yml).
RUN useradd --create-home --uid 10001 bot && mkdir -p /app/data && chown bot:bot /app/data
USER bot
VOLUME ["/app/data"]

# SIGTERM (docker stop) closes the Discord connection and the database cleanly.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot", "run"]
