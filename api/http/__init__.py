"""The HTTP plumbing of the web process: reading a request, errors to statuses, keys, request
ids and budgets, the feed's Server-Sent Events, gunicorn's settings."""
