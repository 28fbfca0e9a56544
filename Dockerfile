# The migration job: a plain install of codezest-db plus [migrate] (dbmate), running
# `codezest-db migrate --wait` against $DATABASE_URL, then exiting. compose.yaml runs it
# before the services start, and reuses the image for its sample service.
#
#   docker build -t codezest-db-migrate .
#   docker run --rm -e DATABASE_URL=postgresql://user:password@db:5432/codezest codezest-db-migrate
#
# tests/test_container.py runs these RUN and CMD lines in a fresh venv (no Docker engine there).
FROM python:3.12-slim

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

COPY . /src
RUN pip install "/src[migrate]" && mkdir -p /app && cp -r /src/examples /app/examples && rm -rf /src

WORKDIR /app
USER nobody
# Waits up to 60 s for the server (--wait-timeout to change it); several replicas may
# run it at once: each migration is applied exactly once.
CMD ["codezest-db", "migrate", "--wait"]
