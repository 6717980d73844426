FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir .
ENV PORT=8000
EXPOSE 8000
CMD ["herald", "serve", "--host", "0.0.0.0", "--port", "8000"]
