FROM python:3.12-slim AS base
# The image's file system is not written at run time (PYTHONDONTWRITEBYTECODE), so bytecode is
# compiled at build: the dependencies by uv (UV_COMPILE_BYTECODE), the project by compileall.
# Without it every gunicorn and Celery worker compiled from source what it imported, at start
# and in its first request or task (docs/performance.md, "Warm processes").
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv PATH=/app/.venv/bin:$PATH
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.8
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev
COPY . .
RUN python -m compileall -q -x '/\.venv/' .
RUN DJANGO_SECRET_KEY=build python manage.py collectstatic --no-input
RUN useradd --system --uid 1000 oms && chown -R oms /app
USER oms
EXPOSE 8000
CMD ["gunicorn", "oms.wsgi:application", "--config", "gunicorn.conf.py"]
