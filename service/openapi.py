"""The OpenAPI 3.1 description served at GET /openapi.json."""

from __future__ import annotations

from service import headers, routes
from service.validation import MAX_ANSWER_LEN, MAX_TOP_K, TEXT_PATTERN

OFFSETS = (
    "offset in the context in Unicode code points (not UTF-16 code units: a character outside "
    "the Basic Multilingual Plane, such as an emoji, counts 1)"
)
_TEXT = "must not contain NUL and must contain a letter or digit (pattern, Python/Unicode `\\w`)"

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string", "description": "What went wrong and how to fix it"}},
}
_ANSWER = {
    "type": "object",
    "required": ["answer", "score", "start", "end"],
    "properties": {
        "answer": {"type": "string", "description": "context[start:end]"},
        "score": {"type": "number", "minimum": 0},
        "start": {"type": "integer", "minimum": 0, "description": OFFSETS},
        "end": {"type": "integer", "minimum": 0, "description": OFFSETS + "; exclusive, > start"},
    },
}


def _error(description: str, retry: bool = False) -> dict:
    response: dict = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return response


def build_openapi(
    model_id: str,
    model_revision: str,
    max_context_chars: int,
    *,
    max_question_tokens: int,
    max_windows: int,
) -> dict:
    timing_headers = {
        headers.INSTANCE_ID: {"schema": {"type": "string"}, "description": "random per process"},
        headers.INSTANCE_REQUEST_COUNT: {
            "schema": {"type": "integer"},
            "description": "1 for the first non-probe request this process served",
        },
        headers.INSTANCE_READY_AGE: {
            "schema": {"type": "number"},
            "description": "ms since this process became ready, when the request arrived (absent before)",
        },
        headers.INSTANCE_REGION: {
            "schema": {"type": "string"},
            "description": "the region that answered, as the stack set it (absent when it set none)",
        },
        headers.SERVER_TIMING: {
            "schema": {"type": "string"},
            "description": (
                "inference;dur=<ms>, total;dur=<ms> (+ queue, tokenize, decode; with BATCHING on "
                "also batch;dur=<wait ms>;size=<requests>;windows=<rows>)"
            ),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Extractive question answering",
            "version": "1",
            "description": f"Model {model_id} at revision {model_revision}.",
        },
        "paths": {
            routes.PREDICT: {
                "post": {
                    "summary": "Answer a question from a context (a span of the context)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Best answer (and the top_k best in `answers`)",
                            "headers": timing_headers,
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/PredictResponse"}
                                }
                            },
                        },
                        "400": _error("Body is not parseable JSON (or not UTF-8)"),
                        "413": _error(
                            "Body over MAX_BODY_BYTES, context over MAX_CONTEXT_CHARS, question over "
                            f"{max_question_tokens} tokens (MAX_QUESTION_TOKENS), or a context that "
                            f"needs more than {max_windows} windows (MAX_WINDOWS)"
                        ),
                        "415": _error("Content-Type is not application/json"),
                        "422": _error(
                            "Valid JSON with a missing, unknown, wrong-typed or out-of-range value"
                        ),
                        "503": _error("Model not ready, or at capacity", retry=True),
                    },
                }
            },
            routes.HEALTH: {
                "get": {
                    "summary": "Liveness: 200 while the process runs",
                    "responses": {"200": {"description": "alive"}},
                }
            },
            routes.READY: {
                "get": {
                    "summary": "Readiness: 200 once the model is loaded and warmed up",
                    "responses": {
                        "200": {
                            "description": "ready",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Ready"}}
                            },
                        },
                        "503": _error("loading, draining or failed", retry=True),
                    },
                }
            },
            routes.OPENAPI: {
                "get": {"summary": "This document", "responses": {"200": {"description": "ok"}}}
            },
            routes.METRICS: {
                "get": {
                    "summary": "Prometheus metrics of this instance (text exposition format)",
                    "responses": {"200": {"description": "ok", "content": {"text/plain": {}}}},
                }
            },
        },
        "components": {
            "schemas": {
                "PredictRequest": {
                    "type": "object",
                    "required": ["question", "context"],
                    "additionalProperties": False,
                    "properties": {
                        "question": {
                            "type": "string",
                            "minLength": 1,
                            "pattern": TEXT_PATTERN,
                            "description": f"at most {max_question_tokens} tokens; {_TEXT}",
                            "x-max-tokens": max_question_tokens,
                        },
                        "context": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": max_context_chars,
                            "pattern": TEXT_PATTERN,
                            "description": f"at most {max_windows} windows of tokens; {_TEXT}",
                            "x-max-windows": max_windows,
                        },
                        "top_k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K},
                        "max_answer_len": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_ANSWER_LEN,
                            "description": "in tokens (default 15)",
                        },
                        "handle_impossible_answer": {"type": "boolean"},
                        "align_to_words": {"type": "boolean"},
                    },
                },
                "Answer": _ANSWER,
                "PredictResponse": {
                    **_ANSWER,
                    "properties": {
                        **_ANSWER["properties"],
                        "answers": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Answer"},
                            "description": "present when top_k > 1",
                        },
                    },
                },
                "Ready": {
                    "type": "object",
                    "required": ["status", "model_id", "model_revision"],
                    "properties": {
                        "status": {"type": "string"},
                        "model_id": {"type": "string"},
                        "model_revision": {"type": "string"},
                        "instance_id": {"type": "string"},
                        "accuracy_gate": {
                            "type": ["object", "null"],
                            "description": "int8 images: SQuAD v1.1 exact match and F1 of fp32 and "
                            "int8 measured when the image was built, the sample, the margin; null otherwise",
                        },
                    },
                },
                "Error": _ERROR,
            }
        },
    }
