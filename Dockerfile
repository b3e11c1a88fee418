# syntax=docker/dockerfile:1
# The dashboard as a container: `docker compose up` (docker-compose.yml) or alongside RDS.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin dashboard
WORKDIR /app

# The same install step as `make run` (tests/test_containers.py keeps them identical), from the
# hashed lock of requirements.txt: make run's lock less the embedded PostgreSQL, which the image,
# always given a server, does not need.
COPY requirements.lock .
RUN python -m pip --disable-pip-version-check -q install --require-hashes -r requirements.lock

# Amazon's RDS CA bundle, so sslmode=verify-full works against RDS out of the box (db/rds.py).
ADD --chmod=644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem

COPY --chown=dashboard:dashboard . .
USER dashboard

# serve.py uses CONNECTION_URL (or PROD_CONNECTION_URL with APP_ENV=prod) as it is;
# MIGRATE_ON_START=1 applies pending migrations before Streamlit starts.
ENV HOST=0.0.0.0 \
    PORT=8501 \
    MIGRATE_ON_START=1 \
    PGSSLROOTCERT=/etc/ssl/certs/rds-global-bundle.pem \
    DASHBOARD_DATA_DIR=/tmp/dashboard-data
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import os, sys, urllib.request; r = urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8501\")}/_stcore/health', timeout=4); sys.exit(0 if r.read().strip() == b'ok' else 1)"

CMD ["python", "serve.py"]
