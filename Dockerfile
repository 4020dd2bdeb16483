# The integrations service: a slim image running as a non-root user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    INTEGRATIONS_DATABASE_URL=sqlite+aiosqlite:////var/lib/integrations/integrations.db

# uid and gid 10001: deploy/kubernetes.yaml's runAsUser, runAsGroup and fsGroup.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /app /var/lib/integrations \
    && chown app:app /var/lib/integrations

WORKDIR /app
# Dependencies first, at the versions requirements.lock pins (`make lock` makes it from
# pyproject.toml), so code changes do not reinstall them and every build gets the same ones.
COPY requirements.lock pyproject.toml ./
RUN pip install --no-cache-dir -r requirements.lock

COPY engines ./engines
COPY drivers ./drivers
COPY service ./service
COPY gen ./gen
RUN pip install --no-cache-dir --no-deps . && rm -rf build

USER 10001:10001
VOLUME ["/var/lib/integrations"]
EXPOSE 50051
# The same check over TLS once serve has --tls-cert: set INTEGRATIONS_HEALTHCHECK_TLS_CA (and
# _TLS_CERT/_TLS_KEY under mutual TLS, _TLS_SERVER_NAME when the certificate does not name
# 127.0.0.1); healthcheck reads them, so this line stays as it is.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["integrations-service", "healthcheck", "--target", "127.0.0.1:50051", "--timeout", "4"]
# Production by default: needs CREDENTIAL_MASTER_KEYS (or a key file) and, since it listens on all
# interfaces, a caller file (INTEGRATIONS_CALLERS=/path).
ENV INTEGRATIONS_PRODUCTION=1
CMD ["integrations-service", "serve", "--listen", "0.0.0.0:50051"]
