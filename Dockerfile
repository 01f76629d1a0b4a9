# The workers and the simulator, for docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml ./
COPY infra infra
COPY schemas schemas
COPY streams streams
COPY warehouse warehouse
COPY dashboards dashboards
COPY simulator simulator
COPY forecast forecast
COPY producer producer
COPY collector collector
COPY launcher launcher
COPY bench bench
RUN pip install --no-cache-dir .
