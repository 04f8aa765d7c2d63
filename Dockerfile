# The portal's image: web (gunicorn), worker and beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .

# The translations Django reads, compiled from the catalogues in the repository.
RUN python -m config.translations

# Static files are collected at build time; the settings need values, not real secrets.
RUN DJANGO_SECRET_KEY="build-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    DJANGO_ALLOWED_HOSTS=build.invalid DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://build.invalid:6379/0 TRUSTED_PROXY_COUNT=0 \
    STATIC_ROOT=/app/staticfiles python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --home-dir /app portal \
    && mkdir -p /var/lib/portal && chown portal /var/lib/portal
USER portal

ENV STATIC_ROOT=/app/staticfiles
EXPOSE 8000
# Threads, timeout and the access log (paths only, never query strings): config/gunicorn.py.
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi", "--bind", "0.0.0.0:8000", \
     "--workers", "3"]
