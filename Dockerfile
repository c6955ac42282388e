# Dealbook app image. htmx comes from npm (package-lock.json) in a build stage.
FROM node:20-slim AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
# Pango, HarfBuzz and fonts: WeasyPrint lays out the PDF report with them.
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-liberation \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY app ./app
RUN pip install --disable-pip-version-check .
COPY alembic.ini gunicorn.conf.py ./
COPY migrations ./migrations
COPY templates ./templates
COPY docs ./docs
COPY static ./static
COPY --from=frontend /src/node_modules/htmx.org/dist/htmx.min.js ./static/vendor/htmx.min.js
COPY --from=frontend /src/node_modules/htmx.org/dist/ext/hx-csp.min.js ./static/vendor/hx-csp.min.js
COPY --from=frontend /src/node_modules/swagger-ui-dist/swagger-ui-bundle.js /src/node_modules/swagger-ui-dist/swagger-ui.css ./static/vendor/swagger/
RUN pip install --disable-pip-version-check --no-deps -e . && useradd --create-home dealbook
USER dealbook
EXPOSE 8000
ENV WEB_CONCURRENCY=2
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
