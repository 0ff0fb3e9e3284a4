"""``twofold serve``: pages, the check API (same JSON as ``check --json``), limits, escaping, and a load test."""

from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from importlib.resources import files

import httpx
import pytest
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from serving import running_server
from twofold.serve import MAX_BODY, create_app

CLAIM = "taylor.even_positive"


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(workers=2))


@pytest.fixture(scope="module")
def check_schema() -> Draft202012Validator:
    return Draft202012Validator(json.loads(files("twofold").joinpath("schemas/check.schema.json").read_text()))


def test_pages_and_the_bundled_katex(client: TestClient) -> None:
    index = client.get("/")
    assert index.status_code == 200 and f'href="/claim/{CLAIM}"' in index.text
    assert "cdn" not in index.text.lower() and "/static/katex/katex.min.js" in index.text
    page = client.get(f"/claim/{CLAIM}")
    assert page.status_code == 200 and 'id="steps"' in page.text and 'id="hint"' in page.text
    for asset in ("katex/katex.min.js", "katex/katex.min.css", "katex/fonts/KaTeX_Main-Regular.woff2", "katex/LICENSE", "twofold.js"):
        assert client.get(f"/static/{asset}").status_code == 200, asset
    assert client.get("/claim/taylor").status_code == 404
    assert "content-security-policy" in page.headers and "script-src 'self'" in page.headers["content-security-policy"]


def test_api_check_answers_the_document_of_check_json(client: TestClient, check_schema: Draft202012Validator) -> None:
    answer = client.post("/api/check", json={"claim": CLAIM, "steps": ["x**2 = 4", "x = 2"]})
    assert answer.status_code == 200
    document = answer.json()
    check_schema.validate(document)
    assert document["lines"][1]["relation_to_previous"] == "implied_by"
    assert document["lines"][1]["counterexample"] == {"x": "-2"}


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"claim": "taylor.even_positive"}', b'{"claim": "taylor.even_positive", "steps": []}',
     b'{"claim": "taylor.even_positive", "steps": [1]}', b'{"claim": "taylor", "steps": ["x = x"]}',
     b'{"claim": "taylor.even_positive", "steps": ["__import__(\'os\')"]}'],
)
def test_bad_requests_get_one_line_errors(client: TestClient, body: bytes) -> None:
    answer = client.post("/api/check", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400 and "\n" not in answer.json()["error"]


def test_request_size_limit(client: TestClient) -> None:
    steps = ["x = x" + " " * 1000] * 50
    big = json.dumps({"claim": CLAIM, "steps": steps * 2}).encode()
    assert len(big) > MAX_BODY
    assert client.post("/api/check", content=big).status_code == 413


def test_learner_text_comes_back_as_data_never_as_markup(client: TestClient) -> None:
    answer = client.post("/api/check", json={"claim": CLAIM, "steps": ["x = x"]})
    assert answer.headers["content-type"].startswith("application/json")
    page = client.get("/claim/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert page.status_code == 404 and "<script>alert(1)" not in page.text


HOSTILE = "sin(x)**200 = (1 - cos(x)**2)**100"


def _request(client: httpx.Client, k: int) -> tuple[float, int, dict]:
    kind = k % 10
    if kind == 0:
        steps = [HOSTILE]
    elif kind % 2:
        steps = [f"(x + {k})**2 = x**2 + {2 * k}*x + {k * k}", f"= (x + {k})*(x + {k})"]
    else:
        steps = [f"x**2 = {k * k}", f"x = {k}"]
    start = time.perf_counter()
    answer = client.post("/api/check", json={"claim": CLAIM, "steps": steps})
    return time.perf_counter() - start, answer.status_code, answer.json()


def test_fifty_concurrent_checks_with_hostile_ones() -> None:
    """50 concurrent requests (valid, invalid, and hostile ones that hit the time limit): p95 <= 2 s, no 5xx."""
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    with running_server() as url, httpx.Client(base_url=url, timeout=60, limits=limits) as client:
        _request(client, 1)  # warm: the claim's module and its reference derivation load once
        with ThreadPoolExecutor(50) as pool:
            results = list(pool.map(lambda k: _request(client, k), range(50)))
        seconds = sorted(r[0] for r in results)
        p50, p95 = statistics.median(seconds), seconds[int(0.95 * len(seconds)) - 1]
        print(f"load test: p50 {p50:.3f} s, p95 {p95:.3f} s, max {seconds[-1]:.3f} s")
        assert all(status == 200 for _, status, _ in results), [status for _, status, _ in results]
        for k, (_, _, document) in enumerate(results):
            lines = document["lines"]
            if k % 10 == 0:
                assert lines[0]["verdict"] == "undecided" and lines[0]["step"]["timed_out"], lines[0]
            elif k % 2 == 0:
                assert lines[1]["relation_to_previous"] == "implied_by", lines[1]
                assert lines[1]["counterexample"] == {"x": str(-k)}, lines[1]
            else:
                assert document["outcome"] == "valid", lines
        assert p95 <= 2.0
        after = _request(client, 3)
        assert after[1] == 200 and after[2]["outcome"] == "valid"
