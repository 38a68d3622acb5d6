"""The annotation app started for real with uvicorn on 127.0.0.1."""

import asyncio

import httpx
import pytest
from human_helpers import BASE, TUNED, Server, make_study, vote_json


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_no_mapping(text: str) -> None:
    assert BASE not in text and TUNED not in text


def test_session_shows_only_assigned_items_and_no_mapping(server):
    study = server.study
    tokens = study.tokens()
    assignments = study.assignments()
    for name, token in tokens.items():
        r = httpx.get(f"{server.url}/api/session", headers=auth(token))
        assert r.status_code == 200
        assert_no_mapping(r.text)
        body = r.json()
        assert body["annotator"] == name
        assert [i["item_id"] for i in body["items"]] == assignments[name]
        assert set(body["items"][0]) == {"item_id", "prompt", "response_a", "response_b"}
        assert [c["key"] for c in body["rubric"]] == [
            "accuracy",
            "relevance",
            "format",
            "fluency",
        ]
        assert body["votes"] == {}


def test_vote_stored_changed_and_returned_on_resume(server):
    name, token = next(iter(server.study.tokens().items()))
    item = server.study.assignments()[name][0]
    url = f"{server.url}/api/votes/{item}"
    r = httpx.put(url, json=vote_json("A", comment="first"), headers=auth(token))
    assert r.status_code == 200, r.text
    assert r.json()["progress"]["done"] == 1
    assert r.json()["vote"]["revision"] == 1
    r = httpx.put(url, json=vote_json("tie", a=2, b=5, comment="changed"), headers=auth(token))
    assert r.status_code == 200
    assert r.json()["vote"]["revision"] == 2
    assert r.json()["progress"]["done"] == 1
    votes = server.study.votes(name)
    assert len(votes) == 1
    assert votes[0].preference == "tie" and votes[0].a.accuracy == 2 and votes[0].b.fluency == 5
    session = httpx.get(f"{server.url}/api/session", headers=auth(token)).json()
    assert session["votes"][item]["preference"] == "tie"
    assert session["votes"][item]["comment"] == "changed"


def test_missing_and_wrong_token_show_nothing(server):
    item = server.study.items()[0].item_id
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        r = httpx.get(f"{server.url}/api/session", headers=headers)
        assert r.status_code == 401
        assert "missing token" in r.json()["detail"]
        assert "items" not in r.text
    r = httpx.get(f"{server.url}/api/session", headers=auth("not-a-token"))
    assert r.status_code == 403
    assert "unknown token" in r.json()["detail"]
    r = httpx.put(f"{server.url}/api/votes/{item}", json=vote_json(), headers=auth("nope"))
    assert r.status_code == 403
    # An annotator token is not the organiser's.
    annotator_token = next(iter(server.study.tokens().values()))
    r = httpx.get(f"{server.url}/api/organiser", headers=auth(annotator_token))
    assert r.status_code == 403
    assert server.study.votes() == []


def test_another_annotators_item_is_refused(server):
    study = server.study
    assignments = study.assignments()
    tokens = study.tokens()
    mine = set(assignments["ann1"])
    other = next(i for i in assignments["ann2"] if i not in mine)
    r = httpx.put(f"{server.url}/api/votes/{other}", json=vote_json(), headers=auth(tokens["ann1"]))
    assert r.status_code == 403
    assert "not assigned to you" in r.json()["detail"]
    r = httpx.put(
        f"{server.url}/api/votes/no-such-item", json=vote_json(), headers=auth(tokens["ann1"])
    )
    assert r.status_code == 403
    assert study.votes() == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"", 422, "invalid vote"),
        (b"[1, 2]", 422, "invalid vote"),
    ],
)
def test_malformed_bodies(server, body, status, message):
    name, token = next(iter(server.study.tokens().items()))
    item = server.study.assignments()[name][0]
    r = httpx.put(
        f"{server.url}/api/votes/{item}",
        content=body,
        headers={**auth(token), "Content-Type": "application/json"},
    )
    assert r.status_code == status, r.text
    assert message in r.json()["detail"]
    assert server.study.votes() == []


def _with(**changes):
    body = vote_json()
    for key, value in changes.items():
        side, _, field = key.partition("__")
        if field:
            body[side][field] = value
        else:
            body[side] = value
    return body


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (_with(a__accuracy=0), "a.accuracy"),
        (_with(b__fluency=6), "b.fluency"),
        (_with(a__format=3.5), "a.format"),
        (_with(a__relevance="4"), "a.relevance"),
        (_with(preference="C"), "preference"),
        (_with(preference=None), "preference"),
        (_with(extra="x"), "extra"),
        ({"a": vote_json()["a"], "preference": "A"}, "b"),
        (_with(comment="x" * 5000), "comment"),
    ],
)
def test_invalid_votes_are_refused_with_a_clear_message(server, body, where):
    name, token = next(iter(server.study.tokens().items()))
    item = server.study.assignments()[name][0]
    r = httpx.put(f"{server.url}/api/votes/{item}", json=body, headers=auth(token))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("invalid vote: ")
    assert where in detail
    assert server.study.votes() == []


def test_mapping_never_in_any_response(server):
    study = server.study
    token = study.tokens()["ann1"]
    for item in study.assignments()["ann1"]:
        r = httpx.put(f"{server.url}/api/votes/{item}", json=vote_json("B"), headers=auth(token))
        assert_no_mapping(r.text)
    pages = [
        "/",
        "/annotate",
        "/organiser",
        "/static/annotate.js",
        "/static/organiser.js",
        "/static/style.css",
    ]
    for path in pages:
        r = httpx.get(server.url + path)
        assert r.status_code == 200
        assert_no_mapping(r.text)
        assert "Content-Security-Policy" in r.headers
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "no-referrer"
    r = httpx.get(f"{server.url}/api/organiser", headers=auth(study.organiser_token()))
    assert r.status_code == 200
    assert_no_mapping(r.text)
    body = r.json()
    assert {p["annotator"]: p["done"] for p in body["progress"]}["ann1"] == 4
    assert "fleiss_kappa" in body["agreement"]
    for path in ("/docs", "/openapi.json"):
        assert httpx.get(server.url + path).status_code == 404


def test_concurrent_annotators_lose_no_vote(tmp_path):
    annotators = [f"ann{i}" for i in range(10)]
    study = make_study(tmp_path, n=100, annotators=annotators, per_item=10)
    tokens = study.tokens()
    assignments = study.assignments()
    assert all(len(ids) == 100 for ids in assignments.values())

    async def client(base: str, name: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base, headers=auth(tokens[name]), timeout=120) as c:
            k = int(name[3:])

            async def one(j: int, item: str) -> int:
                pref = ("A", "B", "tie")[(j + k) % 3]
                body = vote_json(pref, a=1 + (j + k) % 5, b=1 + j % 5, comment=f"{name}/{item}")
                r = await c.put(f"/api/votes/{item}", json=body)
                return r.status_code

            return await asyncio.gather(*(one(j, i) for j, i in enumerate(assignments[name])))

    async def everyone(base: str) -> list[list[int]]:
        return await asyncio.gather(*(client(base, a) for a in annotators))

    with Server(study) as server:
        statuses = asyncio.run(everyone(server.url))
    assert [s for per in statuses for s in per] == [200] * 1000
    votes = study.votes()
    assert len(votes) == 1000
    assert len({(v.annotator, v.item_id) for v in votes}) == 1000
    assert all(v.revision == 1 for v in votes)
    for v in votes:  # each vote is whole and belongs to the right annotator and item
        assert v.comment == f"{v.annotator}/{v.item_id}"
        assert v.item_id in assignments[v.annotator]
    assert study.progress() == {a: (100, 100) for a in annotators}


def test_body_cap_is_64_kb_with_or_without_content_length(server):
    name, token = next(iter(server.study.tokens().items()))
    url = f"{server.url}/api/votes/{server.study.assignments()[name][0]}"
    headers = {**auth(token), "Content-Type": "application/json"}
    under = b'{"pad": "' + b"x" * (64 * 1024 - 11) + b'"}'
    assert len(under) == 64 * 1024
    r = httpx.put(url, content=under, headers=headers)
    assert r.status_code == 422 and "invalid vote" in r.json()["detail"]  # read and parsed
    over = under + b" "
    r = httpx.put(url, content=over, headers=headers)
    assert r.status_code == 413 and "at most 64 KB" in r.json()["detail"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"  # refusals carry the headers too
    r = httpx.put(url, content=iter([over[:40000], over[40000:]]), headers=headers)  # chunked
    assert r.status_code == 413
    r = httpx.put(url, content=iter([b'{"a": ', b"1}"]), headers=headers)
    assert r.status_code == 422 and "invalid vote" in r.json()["detail"]
    assert server.study.votes() == []
    r = httpx.put(url, json=vote_json(), headers=auth(token))
    assert r.status_code == 200
