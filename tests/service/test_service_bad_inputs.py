"""A bug inside the app is a JSON 500 without a traceback (in-process: the model is patched).

Bad input from clients, one row per class of mistake, is tests/contract/test_contract_bad_inputs.py,
run against a local process and each container image.
"""

from __future__ import annotations

GOOD = {"question": "What am I?", "context": "Roses are red, violets are blue."}


def test_an_internal_bug_is_a_json_500_without_traceback(settings, qa_model, monkeypatch):
    from service.app import create_app

    app = create_app(settings, model=qa_model)

    def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(qa_model, "predict", broken)
    response = app.test_client().post("/predict", json=GOOD)
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error; it has been logged"}
    assert "secret" not in response.get_data(as_text=True)
