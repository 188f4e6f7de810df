"""The int8 accuracy gate's metric (service/bake/squad_metric.py) and its questions
(service/bake/accuracy_data.py): EM/F1 against hand-computed values, the project's sample file,
the pinned download through a real local HTTP server."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from bench.local_service import free_port
from service.bake import accuracy_data
from service.bake.squad_metric import exact_match, f1, normalize_answer, score


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("The Eiffel Tower.", "eiffel tower"),  # lower-case, punctuation, article
        ("  an apple a   day\n", "apple day"),  # every article, whitespace collapsed
        ("Theatre and anthem", "theatre and anthem"),  # articles only as whole words
        ("rock-'n'-roll, (1950s)", "rocknroll 1950s"),  # punctuation removed, not spaced
        ("the", ""),
        ("Café «Bleu»", "café «bleu»"),  # only ASCII punctuation, as the official script
    ],
)
def test_normalisation_is_squad_v1_1s(text, normalised):
    assert normalize_answer(text) == normalised


@pytest.mark.parametrize(
    ("prediction", "gold", "em", "f1_value"),
    [
        ("the Eiffel Tower", "Eiffel tower.", 1.0, 1.0),
        # 4 of 4 predicted tokens are gold, 4 of 5 gold tokens predicted: P 1, R 0.8 -> 8/9
        ("red and white bands", "with red and white bands", 0.0, 8 / 9),
        # tokens count with multiplicity: shared {new: 1, york: 1} = 2; P 2/3, R 1 -> 0.8
        ("new new york", "new york", 0.0, 0.8),
        # shared {paris} = 1; P 1/2, R 1/3 -> 2 * 1/6 / (5/6) = 0.4
        ("Paris France", "in central Paris", 0.0, 0.4),
        ("London", "Paris", 0.0, 0.0),
        # both normalise to nothing: equal strings (EM 1) but no shared token (F1 0), as the
        # official script scores it
        ("The", "a", 1.0, 0.0),
    ],
)
def test_exact_match_and_f1_against_hand_computed_values(prediction, gold, em, f1_value):
    assert exact_match(prediction, gold) == em
    assert f1(prediction, gold) == pytest.approx(f1_value, rel=1e-12)


def test_score_takes_the_best_gold_answer_per_question_and_averages_in_percent():
    golds = {
        "q1": ["in 1894", "1894"],  # exact on the second gold answer
        "q2": ["with red and white bands", "red and white bands by day"],  # partial on both
        "q3": ["Ansel Brody"],  # no prediction: 0, as in the official script
        "q4": ["four hundred pounds", "400 pounds"],  # wrong
    }
    predictions = {"q1": "1894", "q2": "red and white bands", "q4": "five arches"}
    result = score(predictions, golds)
    # q2: F1 8/9 against the first gold, 2*(1)*(4/6)/(1+4/6) = 0.8 against the second -> 8/9
    assert result.count == 4
    assert result.exact_match == pytest.approx(100 * 1 / 4, rel=1e-12)
    assert result.f1 == pytest.approx(100 * (1 + 8 / 9) / 4, rel=1e-12)
    assert result.as_json() == {"exact_match": 25.0, "f1": 47.22, "count": 4}


def test_score_refuses_a_question_without_gold_answers():
    with pytest.raises(ValueError, match="q9"):
        score({"q9": "x"}, {"q9": []})


def test_the_builtin_sample_is_squad_v1_1_json_whose_answers_are_spans_of_their_context():
    document = json.loads(accuracy_data.BUILTIN_FILE.read_text(encoding="utf-8"))
    assert document["version"] == "1.1"
    ids = []
    for article in document["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                ids.append(qa["id"])
                assert qa["question"].endswith("?")
                assert qa["answers"], qa["id"]
                for answer in qa["answers"]:
                    start = answer["answer_start"]
                    assert context[start : start + len(answer["text"])] == answer["text"], qa["id"]
    assert len(ids) == len(set(ids)) >= 25
    sample = accuracy_data.load(accuracy_data.BUILTIN, 0)
    assert [e.id for e in sample.examples] == ids
    assert sample.as_json() == {
        "data": "builtin",
        "origin": "accuracy_sample.json",
        "sha256": "sha256:" + hashlib.sha256(accuracy_data.BUILTIN_FILE.read_bytes()).hexdigest(),
        "questions": len(ids),
        "of": len(ids),
    }


def test_a_sample_is_evenly_spaced_over_the_whole_file_and_the_same_every_time():
    examples = accuracy_data.load(accuracy_data.BUILTIN, 0).examples
    picked = accuracy_data.pick(list(examples), 5)
    last = len(examples) - 1
    assert picked == [examples[round(i * last / 4)] for i in range(5)]
    assert picked[0] == examples[0] and picked[-1] == examples[-1]  # first and last article
    assert accuracy_data.pick(list(examples), 5) == picked
    assert accuracy_data.pick(list(examples), 10_000) == list(examples)
    assert len(accuracy_data.load(accuracy_data.BUILTIN, 7).examples) == 7


def test_a_local_squad_file_is_read_and_a_malformed_one_is_one_line(tmp_path):
    good = tmp_path / "mine.json"
    good.write_bytes(accuracy_data.BUILTIN_FILE.read_bytes())
    sample = accuracy_data.load(str(good), 3)
    assert (sample.data, sample.origin, len(sample.examples)) == ("file", "mine.json", 3)
    bad = tmp_path / "bad.json"
    no_context = {"qas": [{"id": "x", "question": "q", "answers": [{"text": "a"}]}]}
    bad.write_text(json.dumps({"data": [{"paragraphs": [no_context]}]}), encoding="utf-8")
    with pytest.raises(accuracy_data.AccuracyDataError) as caught:
        accuracy_data.load(str(bad), 3)
    assert str(caught.value).startswith("bad.json is not SQuAD v1.1 JSON (KeyError: 'context')")
    assert "\n" not in str(caught.value)
    unanswered = tmp_path / "unanswered.json"
    unanswered.write_text(
        json.dumps(
            {
                "data": [
                    {"paragraphs": [{"context": "c", "qas": [{"id": "x", "question": "q", "answers": []}]}]}
                ]
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(accuracy_data.AccuracyDataError, match=r"questions without answers \(x\)"):
        accuracy_data.load(str(unanswered), 3)
    with pytest.raises(accuracy_data.AccuracyDataError, match=r"is not valid: squad-v1\.1-dev .* builtin"):
        accuracy_data.load(str(tmp_path / "missing.json"), 3)


@pytest.fixture
def served_bytes() -> Iterator[tuple[str, dict]]:
    """A real HTTP server on 127.0.0.1 serving `files[path]` (set by the test)."""
    files: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", files
    finally:
        server.shutdown()
        server.server_close()


def test_the_download_is_kept_only_with_its_pinned_sha256(served_bytes):
    base, files = served_bytes
    raw = accuracy_data.BUILTIN_FILE.read_bytes()
    files["/dev.json"] = raw
    pinned = hashlib.sha256(raw).hexdigest()
    assert accuracy_data.download(f"{base}/dev.json", pinned) == raw
    with pytest.raises(accuracy_data.AccuracyDataError) as caught:
        accuracy_data.download(f"{base}/dev.json", "0" * 64)
    message = str(caught.value)
    assert f"has sha256 {pinned[:16]}… ({len(raw)} bytes), pinned is 0000000000000000…" in message
    assert "--accuracy-data builtin" in message and "\n" not in message
    with pytest.raises(accuracy_data.AccuracyDataError, match=r"cannot download .*/gone\.json .*404"):
        accuracy_data.download(f"{base}/gone.json", pinned)


def test_no_network_is_one_line_that_names_the_url_and_the_explicit_offline_choice():
    port = free_port()  # nothing listens there
    with pytest.raises(accuracy_data.AccuracyDataError) as caught:
        accuracy_data.download(
            f"http://127.0.0.1:{port}/dev-v1.1.json", accuracy_data.SQUAD_DEV_SHA256, timeout=10
        )
    message = str(caught.value)
    assert message.startswith(f"cannot download http://127.0.0.1:{port}/dev-v1.1.json (")
    assert message.endswith(
        "the int8 accuracy gate needs it; build with network access, or pass --accuracy-data builtin "
        "(the project's small sample) or a path to a local copy"
    )
    assert "\n" not in message


def test_the_default_data_is_the_pinned_download_with_no_fallback(monkeypatch):
    """Without network the default fails; it never quietly scores the project's sample instead."""
    url = f"http://127.0.0.1:{free_port()}/dev-v1.1.json"  # nothing listens there
    monkeypatch.setattr(accuracy_data, "SQUAD_DEV_URL", url)
    assert accuracy_data.DEFAULT_DATA == accuracy_data.SQUAD_DEV
    with pytest.raises(accuracy_data.AccuracyDataError, match=f"^cannot download {url} "):
        accuracy_data.load()
