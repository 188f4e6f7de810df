"""Extractive question-answering service (the container Cloud Run / Knative runs).

`python -m service` serves `$MODEL_DIR` on `$PORT` with gunicorn (service/gunicorn.conf.py);
`service.app.create_app` is the Flask app factory. Importing this package imports nothing
heavy: torch is loaded only by the backend that uses it.
"""
