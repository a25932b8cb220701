FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md ./
COPY domain domain
COPY application application
COPY adapters adapters
COPY projections projections
COPY api api
COPY workers workers
COPY wibestore wibestore
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["wibestore", "serve", "--host", "0.0.0.0", "--workers", "2"]
