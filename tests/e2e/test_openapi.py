"""banyan-server's real responses checked against its own /openapi.json.

The server runs as a process on a free loopback port over a scratch SQLite file. Every
documented operation is called for real, on its success path and on its error paths;
each response must carry a status the operation documents (or, for an error, its
`default` problem), the documented media type, the documented required headers, and a
body valid against the documented JSON Schema (Draft 2020-12, OpenAPI 3.1's dialect).
A method a path does not document must get 405 with an Allow header listing exactly the
documented ones. At the end every documented operation must have answered 2xx at least once.
"""

import http.client
import json
import os
import re
import sqlite3
import subprocess
import tempfile
import time
from urllib.parse import quote

import jsonschema
import pytest

SERVER = os.environ.get("BANYAN_SERVER", "banyan-server")
CLI = os.environ.get("BANYAN_CLI", "banyan")
METHODS = ("get", "post", "patch", "put", "delete")


def _formats():
    checker = jsonschema.FormatChecker()

    @checker.checks("date-time")
    def _date_time(value):
        return not isinstance(value, str) or re.fullmatch(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z", value) is not None

    @checker.checks("date")
    def _date(value):
        return not isinstance(value, str) or re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None

    @checker.checks("uri")
    def _uri(value):
        return not isinstance(value, str) or re.fullmatch(r"https?://\S+", value) is not None

    return checker


class Api:
    """An HTTP client that checks each response against the document as it goes."""

    def __init__(self, port, document, key):
        self.key = key  # sent as a bearer credential unless a call sends its own (or None)
        self.port = port
        self.doc = document
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.answered = set()  # (path template, method, status)
        self.formats = _formats()

    def validate(self, instance, schema, what):
        # The schema sits in a document that also holds the components, so its
        # "#/components/schemas/..." references resolve.
        wrapper = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "components": self.doc["components"], "allOf": [schema]}
        errors = sorted(jsonschema.Draft202012Validator(wrapper, format_checker=self.formats)
                        .iter_errors(instance), key=lambda e: list(e.path))
        assert not errors, f"{what}: {errors[0].message} at {list(errors[0].path)}\n{json.dumps(instance)[:2000]}"

    def resolve(self, item):
        while "$ref" in item:
            node = self.doc
            for part in item["$ref"].lstrip("#/").split("/"):
                node = node[part]
            item = node
        return item

    def call(self, method, template, path=None, body=None, headers=None, content_type="application/json"):
        """Sends `method` to `path` (default: the template itself), which falls under the
        documented `template`; returns (status, parsed body or text, headers)."""
        path = path or template
        data = None
        sent = {"Authorization": "Bearer " + self.key}
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v is not None}
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            sent.setdefault("Content-Type", content_type)
        self.conn.request(method, path, body=data, headers=sent)
        reply = self.conn.getresponse()
        raw = reply.read()
        status = reply.status
        got_headers = {k.lower(): v for k, v in reply.getheaders()}
        media = got_headers.get("content-type", "").split(";")[0].strip()
        what = f"{method} {path} -> {status}"
        assert "x-request-id" in got_headers, what

        item = self.doc["paths"].get(template)
        assert item is not None, f"{template} is not documented"
        operation = item.get(method.lower())
        if operation is None:
            assert status == 405, what
            allowed = {m.strip().lower() for m in got_headers.get("allow", "").split(",")}
            assert allowed == {m for m in METHODS if m in item}, f"{what}: Allow {got_headers.get('allow')}"
            self.validate(json.loads(raw), {"$ref": "#/components/schemas/Problem"}, what)
            return status, json.loads(raw), got_headers

        responses = operation["responses"]
        spec = responses.get(str(status))
        if spec is None:
            assert status >= 400 and "default" in responses, f"{what}: status not documented\n{raw[:500]}"
            spec = responses["default"]
        for name, header in spec.get("headers", {}).items():
            if self.resolve(header).get("required"):
                assert name.lower() in got_headers, f"{what}: no {name} header"
        content = spec.get("content")
        if content is None:
            assert raw == b"", f"{what}: a body where none is documented"
            parsed = None
        else:
            assert media in content, f"{what}: {media} is not one of {list(content)}"
            schema = content[media]["schema"]
            parsed = raw.decode() if media.startswith("text/") else json.loads(raw)
            self.validate(parsed, schema, what)
            if media == "application/problem+json":
                assert parsed["status"] == status and parsed["request_id"] == got_headers["x-request-id"], what
        self.answered.add((template, method.lower(), status))
        return status, parsed, got_headers

    def ok(self, method, template, path=None, body=None, headers=None, status=None):
        got, parsed, hdrs = self.call(method, template, path, body, headers)
        expected = status or {"POST": 201}.get(method, 200)
        assert got == expected, f"{method} {path or template}: {got} {parsed}"
        return parsed, hdrs

    def fails(self, status, code, method, template, path=None, body=None, headers=None, content_type="application/json"):
        got, parsed, _ = self.call(method, template, path, body, headers, content_type)
        assert (got, parsed["code"]) == (status, code), f"{method} {path or template}: {got} {parsed}"
        return parsed


@pytest.fixture(scope="module")
def server():
    scratch = tempfile.mkdtemp(prefix="banyan_openapi_")
    db = os.path.join(scratch, "banyan.db")
    # An administrator's API key, made with the CLI as an operator would.
    url = ["--database", "sqlite://" + db]
    user = subprocess.run([CLI, "user", "add", "--email", "openapi@example.com", "--name", "OpenAPI test",
                           "--role", "admin"] + url, check=True, capture_output=True, text=True).stdout.strip()
    key = subprocess.run([CLI, "apikey", "create", "--user", user, "--name", "openapi test"] + url,
                         check=True, capture_output=True, text=True).stdout.strip()
    proc = subprocess.Popen([SERVER, "--listen", "127.0.0.1:0", "--database", "sqlite://" + db,
                             "--threads", "2", "--no-access-log", "--billing-url", "http://127.0.0.1:9/billing",
                             # it calls every route in quick succession and sends bad credentials on
                             # purpose; the limits have their own tests (server_limits_test.cpp)
                             "--rate-auth-failures", "off", "--rate-bulk", "off", "--rate-writes", "off",
                             "--rate-reads", "off"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    port = None
    deadline = time.monotonic() + 30
    while port is None and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        port = int(found.group(1)) if found else None
    assert port, "banyan-server did not start"
    yield port, db, key
    proc.terminate()
    assert proc.wait(timeout=30) == 0


@pytest.fixture(scope="module")
def api(server):
    port, _, key = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/openapi.json")
    reply = conn.getresponse()
    assert reply.status == 200
    document = json.loads(reply.read())
    client = Api(port, document, key)
    client.ok("GET", "/openapi.json")
    return client


def test_the_document_is_openapi_3_1_with_valid_schemas_and_unique_operation_ids(api):
    doc = api.doc
    assert doc["openapi"].startswith("3.1.")
    for name, schema in doc["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
    ids = [op["operationId"] for item in doc["paths"].values() for m, op in item.items() if m in METHODS]
    assert len(ids) == len(set(ids))
    for path, item in doc["paths"].items():
        for m, op in item.items():
            if m not in METHODS:
                continue
            # Every {param} in a path is declared, and every operation documents a success.
            declared = {api.resolve(p)["name"] for p in item.get("parameters", []) + op.get("parameters", [])}
            assert set(re.findall(r"{(\w+)}", path)) <= declared, path
            assert any(s.startswith("2") for s in op["responses"]), f"{m} {path}"


# The body of a new record of each type, given the records they refer to.
def new_record(kind, n, refs):
    return {
        "users": {"email": f"user{n}@example.com", "name": f"User {n}"},
        "teams": {"name": f"Team {n}"},
        "tags": {"name": f"tag-{n}", "color": "#00aa00"},
        "companies": {"name": f"Acme {n}", "domain": f"acme{n}.example"},
        "contacts": {"first_name": "Ada", "last_name": f"Lovelace {n}", "email": f"ada{n}@example.com",
                     "emails": [{"value": f"ada{n}@example.com", "primary": True},
                                {"value": f"ada{n}@home.example", "label": "home"}],
                     "addresses": [{"kind": "billing", "city": "London", "country": "gb"}]},
        "leads": {"first_name": "Lee", "last_name": f"Nguyen {n}", "email": f"lee{n}@example.com"},
        "pipelines": {"name": f"Sales {n}"},
        "stages": {"pipeline_id": refs.get("pipeline"), "name": f"Stage {n}", "position": 100 + n,
                   "win_probability": 10},
        "deals": {"title": f"Deal {n}", "pipeline_id": refs.get("pipeline"), "stage_id": refs.get("stage"),
                  "amount": {"minor_units": 125000, "currency": "EUR"}, "expected_close": "2027-03-31"},
        "activities": {"kind": "call", "subject": f"Call {n}", "due_at": "2027-01-05T09:30:00Z"},
    }[kind]


PATCHES = {"users": {"name": "Renamed"}, "teams": {"name": "Renamed team"}, "tags": {"name": "renamed-tag"},
           "companies": {"industry": "Looms"}, "contacts": {"title": "Countess"}, "leads": {"source": "fair"},
           "pipelines": {"name": "Renamed pipeline"}, "stages": {"name": "Renamed stage"},
           "deals": {"title": "Renamed deal"}, "activities": {"subject": "Renamed call"}}
FILTERS = {"users": "name[starts_with]=User", "teams": "name[contains]=Team", "tags": "color=%2300aa00",
           "companies": "name[starts_with]=Acme", "contacts": "email[contains]=example.com",
           "leads": "status=new", "pipelines": "id[ge]=1", "stages": "win_probability[lt]=50",
           "deals": "created_at[gt]=2020-01-01T00:00:00Z", "activities": "kind[in]=call,task"}


@pytest.fixture(scope="module")
def refs(api):
    pipeline, _ = api.ok("POST", "/v1/pipelines", body={"name": "Refs pipeline"})
    stage, _ = api.ok("POST", "/v1/stages", body={"pipeline_id": pipeline["id"], "name": "Open", "position": 1,
                                                  "win_probability": 20})
    # Deals need a pipeline with a stage of each kind.
    won, _ = api.ok("POST", "/v1/stages", body={"pipeline_id": pipeline["id"], "name": "Won", "position": 20,
                                                "win_probability": 100, "kind": "won"})
    lost, _ = api.ok("POST", "/v1/stages", body={"pipeline_id": pipeline["id"], "name": "Lost", "position": 21,
                                                 "kind": "lost"})
    return {"pipeline": pipeline["id"], "stage": stage["id"], "won": won["id"], "lost": lost["id"]}


@pytest.mark.parametrize("kind", list(PATCHES))
def test_every_resource_route_answers_as_documented(api, refs, kind):
    base, item = f"/v1/{kind}", f"/v1/{kind}/{{id}}"
    created, headers = api.ok("POST", base, body=new_record(kind, 1, refs))
    path = f"{base}/{created['id']}"
    assert headers["location"] == path and headers["etag"] == f"\"{created['version']}\""
    assert api.ok("GET", item, path)[0] == created
    assert set(api.ok("GET", item, path + "?fields=created_at")[0]) == {"id", "created_at"}
    unchanged, headers = api.ok("GET", item, path, headers={"If-None-Match": headers["etag"]}, status=304)
    assert unchanged is None and headers["etag"] == f"\"{created['version']}\""

    page, _ = api.ok("GET", base, f"{base}?{FILTERS[kind]}&limit=1&sort=-id")
    assert len(page["items"]) == 1 and page["items"][0]["id"] >= created["id"] or page["items"][0]["id"] > 0
    api.ok("GET", base, f"{base}?fields=id,updated_at&include_archived=true")
    if page["next"]:
        api.ok("GET", base, f"{base}?{FILTERS[kind]}&limit=1&sort=-id&cursor={page['next']}")

    changed, headers = api.ok("PATCH", item, path, PATCHES[kind], {"If-Match": f"\"{created['version']}\""})
    assert changed["version"] == created["version"] + 1
    # The same patch again, as merge-patch+json, changes nothing: the same version comes back.
    status, same, _ = api.call("PATCH", item, path, PATCHES[kind], content_type="application/merge-patch+json")
    assert status == 200 and same == changed
    # The audit trail: the record as it was before the change, and the change itself.
    assert api.ok("GET", item, f"{path}?as_of={quote(created['updated_at'])}")[0] == created
    assert api.ok("GET", item, f"{path}?as_of={quote(changed['updated_at'])}")[0] == changed
    api.fails(404, "not_found", "GET", item, f"{path}?as_of=2000-01-01T00:00:00Z")
    api.fails(422, "validation", "GET", item, f"{path}?as_of=yesterday")
    history, _ = api.ok("GET", item + "/history", path + "/history")
    field, value = next(iter(PATCHES[kind].items()))
    assert any(c["field"] == field and c["after"] == value and c["action"] == "updated" for c in history["items"])
    only, _ = api.ok("GET", item + "/history", f"{path}/history?field={field}")
    assert {c["field"] for c in only["items"]} == {field}
    api.fails(404, "not_found", "GET", item + "/history", f"{base}/999999999/history")
    api.fails(412, "stale_version", "PATCH", item, path, PATCHES[kind], {"If-Match": f"\"{created['version']}\""})
    api.fails(422, "validation", "PATCH", item, path, {"no_such_field": 1})
    api.fails(422, "validation", "PATCH", item, path, {"id": 5})
    api.fails(415, "unsupported_media_type", "PATCH", item, path, "name=x", content_type="text/plain")
    api.fails(400, "malformed_json", "PATCH", item, path, '{"name": ')
    api.fails(400, "bad_request", "PATCH", item, path, PATCHES[kind], {"If-Match": "yesterday"})
    api.call("PUT", item, path, PATCHES[kind])  # 405, Allow as documented

    archived, _ = api.ok("POST", item + "/archive", path + "/archive", status=200)
    assert archived["archived_at"] is not None
    assert api.ok("POST", item + "/restore", path + "/restore", status=200)[0]["archived_at"] is None

    api.fails(422, "validation", "POST", base, body={"no_such_field": "x"})
    api.fails(415, "unsupported_media_type", "POST", base, body="<x/>", content_type="application/xml")
    api.fails(400, "malformed_json", "POST", base, body='{"a": 1} trailing')
    api.fails(422, "validation", "GET", base, f"{base}?no_such_field=1")
    api.fails(422, "validation", "GET", base, f"{base}?limit=500")
    api.fails(404, "not_found", "GET", item, f"{base}/999999999")
    api.call("DELETE", base)  # 405

    batch, _ = api.ok("POST", base + "/batch", body={"items": [new_record(kind, 2, refs), new_record(kind, 3, refs)]})
    assert len(batch["items"]) == 2
    bad = api.fails(422, "validation", "POST", base + "/batch", body={"items": [new_record(kind, 4, refs), {"nope": 1}]})
    each, _ = api.ok("POST", base + "/batch", status=207,
                     body={"atomic": False, "items": [{"nope": 1}, new_record(kind, 10, refs)]})
    assert [r["status"] for r in each["items"]] == [422, 201] and each["created"] == 1
    api.ok("DELETE", item, f"{base}/{each['items'][1]['record']['id']}", status=204)
    assert bad["field"] == "items[1].nope"
    upsert_one = dict(new_record(kind, 5, refs), external_id=f"legacy-{kind}-5")
    first, _ = api.ok("POST", base + "/upsert", body={"items": [upsert_one]}, status=200)
    assert first["items"][0]["outcome"] == "created" and first["created"] == 1
    changes = {k: v + " 5" for k, v in PATCHES[kind].items()}
    again, _ = api.ok("POST", base + "/upsert", body={"items": [dict(upsert_one, **changes)]}, status=200)
    assert again["items"][0]["record"]["id"] == first["items"][0]["record"]["id"]
    assert again["items"][0]["outcome"] == "updated" and again["updated"] == 1
    same, _ = api.ok("POST", base + "/upsert", body={"items": [dict(upsert_one, **changes)]}, status=200)
    assert same["items"][0]["outcome"] == "unchanged" and same["items"][0]["record"] == again["items"][0]["record"]
    api.fails(422, "validation", "POST", base + "/upsert", body={"items": [new_record(kind, 6, refs)]})
    api.fails(422, "validation", "POST", base + "/upsert", body={"items": []})
    each, _ = api.ok("POST", base + "/upsert", status=207, body={
        "atomic": False, "items": [dict(upsert_one, **changes), new_record(kind, 9, refs)]})
    assert [r["outcome"] for r in each["items"]] == ["unchanged", "error"] and each["failed"] == 1
    assert each["items"][1]["error"]["field"] == "external_id"
    # One record at a time: 201 when created, 200 after.
    single = dict(new_record(kind, 7, refs), external_id=f"legacy-{kind}-7")
    made, headers = api.ok("POST", base + "/upsert", body=single, status=201)
    assert made["outcome"] == "created" and headers["location"] == f"{base}/{made['record']['id']}"
    kept, headers = api.ok("POST", base + "/upsert", body={"external_id": single["external_id"]}, status=200)
    assert kept == {"outcome": "unchanged", "record": made["record"]}, "what an upsert does not name stays"
    assert headers["etag"] == f"\"{made['record']['version']}\""
    api.fails(422, "validation", "POST", base + "/upsert", body=new_record(kind, 8, refs))

    doomed = batch["items"][1]
    api.ok("DELETE", item, f"{base}/{doomed['id']}", status=204)
    api.fails(404, "not_found", "DELETE", item, f"{base}/{doomed['id']}")
    api.fails(404, "not_found", "POST", item + "/archive", f"{base}/{doomed['id']}/archive")


def test_a_replayed_idempotent_create_answers_as_documented(api):
    key = {"Idempotency-Key": "openapi-replay-1"}
    first, _ = api.ok("POST", "/v1/tags", body={"name": "idem"}, headers=key)
    again, headers = api.ok("POST", "/v1/tags", body={"name": "idem"}, headers=key)
    assert again == first and headers["idempotent-replayed"] == "true"
    api.fails(422, "idempotency_key_reused", "POST", "/v1/tags", body={"name": "other"}, headers=key)


def test_actions_answer_as_documented(api, refs):
    lead, _ = api.ok("POST", "/v1/leads", body={"first_name": "Grace", "last_name": "Hopper",
                                                "company_name": "Navy", "email": "grace@example.com"})
    convert = "/v1/leads/{id}/convert"
    done, _ = api.ok("POST", convert, f"/v1/leads/{lead['id']}/convert",
                     {"deal": {"pipeline_id": refs["pipeline"], "stage_id": refs["stage"], "title": "Cobol",
                               "amount": {"minor_units": 5000, "currency": "USD"}, "contact_role": "champion"}},
                     status=200)
    assert done["company_created"] and done["deal"]["title"] == "Cobol"
    api.fails(409, "conflict", "POST", convert, f"/v1/leads/{lead['id']}/convert", {})
    api.fails(404, "not_found", "POST", convert, "/v1/leads/999999999/convert", {})
    api.fails(422, "validation", "POST", convert, f"/v1/leads/{lead['id']}/convert", {"deal": {"colour": 1}})
    api.call("GET", convert, f"/v1/leads/{lead['id']}/convert")  # 405

    for kind in ("contacts", "companies", "leads"):
        twin = new_record(kind, 72, {})
        same = {"contacts": {"first_name": "Ann", "last_name": "Twin", "email": twin.get("email")},
                "companies": {"name": "Twin", "domain": twin.get("domain")},
                "leads": {"first_name": "Ann", "last_name": "Twin", "email": twin.get("email")}}[kind]
        one, _ = api.ok("POST", f"/v1/{kind}", body=twin)
        other, _ = api.ok("POST", f"/v1/{kind}", body=same)
        of_one = f"/v1/{kind}/{{id}}/duplicates"
        found, _ = api.ok("GET", of_one, f"/v1/{kind}/{one['id']}/duplicates")
        assert other["id"] in [m["id"] for m in found["items"]]
        api.fails(404, "not_found", "GET", of_one, f"/v1/{kind}/999999999/duplicates")
        api.fails(422, "validation", "GET", of_one, f"/v1/{kind}/{one['id']}/duplicates?limit=2")
        groups_path = f"/v1/{kind}/duplicates"
        groups, _ = api.ok("GET", groups_path, f"{groups_path}?limit=1000")
        assert any({one["id"], other["id"]} <= set(g["ids"]) for g in groups["items"])
        api.fails(422, "validation", "GET", groups_path, f"{groups_path}?limit=0")

    for kind in ("contacts", "companies", "leads"):
        made, _ = api.ok("POST", f"/v1/{kind}/batch",
                         body={"items": [new_record(kind, 70, {}), new_record(kind, 71, {})]})
        survivor, loser = made["items"][0]["id"], made["items"][1]["id"]
        merge = f"/v1/{kind}/{{id}}/merge"
        merged, _ = api.ok("POST", merge, f"/v1/{kind}/{survivor}/merge", {"losers": [loser]}, status=200)
        assert merged["merged"] == [loser] and merged["survivor"]["id"] == survivor
        api.fails(409, "conflict", "POST", merge, f"/v1/{kind}/{survivor}/merge", {"losers": [loser]})
        api.fails(422, "validation", "POST", merge, f"/v1/{kind}/{survivor}/merge", {"losers": []})

    second, _ = api.ok("POST", "/v1/stages", body={"pipeline_id": refs["pipeline"], "name": "Negotiate",
                                                   "position": 9, "win_probability": 80})
    deal = done["deal"]
    stage = "/v1/deals/{id}/stage"
    moved, _ = api.ok("POST", stage, f"/v1/deals/{deal['id']}/stage", {"stage_id": second["id"]},
                      {"If-Match": f"\"{deal['version']}\""}, status=200)
    assert moved["stage_id"] == second["id"]
    api.fails(412, "stale_version", "POST", stage, f"/v1/deals/{deal['id']}/stage", {"stage_id": refs["stage"]},
              {"If-Match": f"\"{deal['version']}\""})
    api.fails(422, "validation", "POST", stage, f"/v1/deals/{deal['id']}/stage", {"stage_id": "next"})
    history, _ = api.ok("GET", "/v1/deals/{id}/stage-history", f"/v1/deals/{deal['id']}/stage-history")
    assert [h["to_stage_id"] for h in history["items"]] == [refs["stage"], second["id"]]
    api.fails(404, "not_found", "GET", "/v1/deals/{id}/stage-history", "/v1/deals/999999999/stage-history")

    # A move to the won stage wins the deal; it moves again only once reopened.
    won, _ = api.ok("POST", stage, f"/v1/deals/{deal['id']}/stage", {"stage_id": refs["won"]}, status=200)
    assert won["status"] == "won" and won["closed_at"] is not None
    api.fails(422, "validation", "POST", stage, f"/v1/deals/{deal['id']}/stage", {"stage_id": second["id"]})
    reopen = "/v1/deals/{id}/reopen"
    reopened, _ = api.ok("POST", reopen, f"/v1/deals/{deal['id']}/reopen", {}, status=200)
    assert reopened["status"] == "open" and reopened["closed_at"] is None and reopened["stage_id"] == second["id"]
    api.fails(409, "conflict", "POST", reopen, f"/v1/deals/{deal['id']}/reopen", {})
    api.fails(404, "not_found", "POST", reopen, "/v1/deals/999999999/reopen", {})
    api.call("GET", reopen, f"/v1/deals/{deal['id']}/reopen")  # 405


def test_relation_routes_answer_as_documented(api, refs):
    ids = {}
    for kind in ("companies", "contacts", "leads", "deals", "activities", "tags"):
        made, _ = api.ok("POST", f"/v1/{kind}", body=new_record(kind, 80, refs))
        ids[kind] = made["id"]
    contact, company, deal, activity, tag = (ids["contacts"], ids["companies"], ids["deals"],
                                             ids["activities"], ids["tags"])

    link = "/v1/contacts/{id}/companies/{company_id}"
    made, _ = api.ok("PUT", link, f"/v1/contacts/{contact}/companies/{company}", {"primary": True})
    assert made["changed"] and made["primary"]
    listed, _ = api.ok("GET", "/v1/contacts/{id}/companies", f"/v1/contacts/{contact}/companies")
    assert [l["company_id"] for l in listed["items"]] == [company]
    listed, _ = api.ok("GET", "/v1/companies/{id}/contacts", f"/v1/companies/{company}/contacts")
    assert [l["contact_id"] for l in listed["items"]] == [contact]
    api.fails(422, "validation", "PUT", link, f"/v1/contacts/{contact}/companies/{company}", {"primary": "yes"})
    api.fails(404, "not_found", "PUT", link, f"/v1/contacts/{contact}/companies/999999999", {})
    gone, _ = api.ok("DELETE", link, f"/v1/contacts/{contact}/companies/{company}")
    assert gone["changed"]
    linked, _ = api.ok("POST", "/v1/contacts", body={"last_name": "Linked", "tags": [tag],
                                                     "companies": [{"id": company, "primary": True}]})
    listed, _ = api.ok("GET", "/v1/contacts/{id}/companies", f"/v1/contacts/{linked['id']}/companies")
    assert listed["items"] == [{"contact_id": linked["id"], "company_id": company, "primary": True}]
    api.fails(422, "validation", "POST", "/v1/contacts", body={"last_name": "X", "tags": [999999999]})

    role = "/v1/deals/{id}/contacts/{contact_id}"
    made, _ = api.ok("PUT", role, f"/v1/deals/{deal}/contacts/{contact}", {"role": "decision_maker"})
    assert made["role"] == "decision_maker"
    listed, _ = api.ok("GET", "/v1/deals/{id}/contacts", f"/v1/deals/{deal}/contacts")
    assert [l["contact_id"] for l in listed["items"]] == [contact]
    listed, _ = api.ok("GET", "/v1/contacts/{id}/deals", f"/v1/contacts/{contact}/deals")
    assert [l["deal_id"] for l in listed["items"]] == [deal]
    api.fails(422, "validation", "PUT", role, f"/v1/deals/{deal}/contacts/{contact}", {"role": "boss"})
    api.ok("DELETE", role, f"/v1/deals/{deal}/contacts/{contact}")

    target = "/v1/activities/{id}/targets/{collection}/{target_id}"
    for kind in ("companies", "contacts", "leads", "deals"):
        api.ok("PUT", target, f"/v1/activities/{activity}/targets/{kind}/{ids[kind]}")
        listed, _ = api.ok("GET", f"/v1/{kind}/{{id}}/activities", f"/v1/{kind}/{ids[kind]}/activities")
        assert listed["items"] == [{"activity_id": activity}]
    listed, _ = api.ok("GET", "/v1/activities/{id}/targets", f"/v1/activities/{activity}/targets")
    assert len(listed["items"]) == 4
    api.fails(404, "no_route", "PUT", target, f"/v1/activities/{activity}/targets/users/1")
    api.ok("DELETE", target, f"/v1/activities/{activity}/targets/leads/{ids['leads']}")

    for kind in ("companies", "contacts", "leads", "deals", "activities"):
        tags = f"/v1/{kind}/{{id}}/tags"
        api.ok("PUT", tags + "/{tag_id}", f"/v1/{kind}/{ids[kind]}/tags/{tag}")
        listed, _ = api.ok("GET", tags, f"/v1/{kind}/{ids[kind]}/tags")
        assert listed["items"] == [{"tag_id": tag}]
    tagged, _ = api.ok("GET", "/v1/tags/{id}/records", f"/v1/tags/{tag}/records")
    assert len(tagged["items"]) == 6  # and the contact tagged at create time
    for kind in ("companies", "contacts", "leads", "deals", "activities"):
        api.ok("DELETE", f"/v1/{kind}/{{id}}/tags/{{tag_id}}", f"/v1/{kind}/{ids[kind]}/tags/{tag}")
    api.fails(404, "not_found", "GET", "/v1/tags/{id}/records", "/v1/tags/999999999/records")


def test_custom_field_routes_answer_as_documented(api):
    base, item = "/v1/custom-fields", "/v1/custom-fields/{id}"
    made, headers = api.ok("POST", base, body={"object_type": "contact", "name": "tier", "label": "Tier",
                                               "type": "enum", "options": ["gold", "silver"]})
    path = f"{base}/{made['id']}"
    assert headers["location"] == path
    api.fails(409, "conflict", "POST", base, body={"object_type": "contact", "name": "tier", "type": "text"})
    api.fails(422, "validation", "POST", base, body={"object_type": "contact", "name": "x", "type": "colour"})
    assert any(d["name"] == "tier" for d in api.ok("GET", base)[0]["items"])
    assert [d["name"] for d in api.ok("GET", base, base + "?object_type=contact")[0]["items"]] == ["tier"]
    api.fails(422, "validation", "GET", base, base + "?object_type=spaceship")

    contact, _ = api.ok("POST", "/v1/contacts", body={"first_name": "Tiered", "custom": {"tier": "gold"}})
    page, _ = api.ok("GET", "/v1/contacts", "/v1/contacts?custom.tier=gold")
    assert [c["id"] for c in page["items"]] == [contact["id"]]
    assert page["items"][0]["custom"] == {"tier": "gold"}

    one, _ = api.ok("GET", item, path)
    assert {k: v for k, v in one.items() if k != "records_without_value"} == \
        {k: v for k, v in made.items() if k != "records_without_value"}
    # Records without a value get one, after the answer, batch by batch.
    queued, headers = api.ok("POST", item + "/backfill", path + "/backfill", {"value": "silver"}, status=202)
    assert queued["field_id"] == made["id"] and headers["location"] == path
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and api.ok("GET", item, path)[0]["records_without_value"] > 0:
        time.sleep(0.05)
    assert api.ok("GET", item, path)[0]["backfill"]["state"] == "done"
    api.fails(422, "validation", "POST", item + "/backfill", path + "/backfill", {"value": "bronze"})
    api.fails(422, "validation", "POST", item + "/backfill", path + "/backfill", {})
    changed, _ = api.ok("PATCH", item, path, {"label": "Customer tier"}, {"If-Match": f"\"{made['version']}\""})
    assert changed["label"] == "Customer tier"
    api.fails(412, "stale_version", "PATCH", item, path, {"label": "Old"}, {"If-Match": f"\"{made['version']}\""})
    api.fails(422, "validation", "PATCH", item, path, {"name": "renamed"})
    renamed, _ = api.ok("POST", item + "/rename", path + "/rename", {"name": "level"}, status=200)
    assert renamed["name"] == "level"
    retyped, _ = api.ok("POST", item + "/type", path + "/type", {"type": "text"}, status=200)
    assert retyped["type"] == "text"
    api.fails(422, "validation", "POST", item + "/type", path + "/type", {"type": "spaceship"})
    api.call("PUT", item, path, {})  # 405
    api.ok("DELETE", item, path, status=204)
    api.fails(404, "not_found", "GET", item, path)


def test_access_routes_answer_as_documented(api):
    roles, _ = api.ok("GET", "/v1/roles")
    assert {"admin", "manager", "sales_rep", "read_only", "integration"} <= {r["name"] for r in roles["items"]}
    grant = {"type": "deal", "action": "export", "scope": "all"}
    made, headers = api.ok("POST", "/v1/roles", body={"name": "exporter", "description": "Exports deals",
                                                      "grants": [grant]})
    assert made == {"name": "exporter", "description": "Exports deals", "grants": [grant], "built_in": False}
    assert headers["location"] == "/v1/roles/exporter"
    assert api.ok("GET", "/v1/roles/{name}", "/v1/roles/exporter")[0] == made
    changed, _ = api.ok("PATCH", "/v1/roles/{name}", "/v1/roles/exporter", {"description": "Exports"}, status=200)
    assert changed["description"] == "Exports" and changed["grants"] == [grant]
    api.fails(422, "validation", "POST", "/v1/roles", body={"name": "x", "grants": [{"type": "deal", "action": "fly",
                                                                                      "scope": "all"}]})
    api.fails(409, "conflict", "POST", "/v1/roles", body={"name": "exporter"})
    api.fails(404, "not_found", "GET", "/v1/roles/{name}", "/v1/roles/nobody")

    user, _ = api.ok("POST", "/v1/users", body={"email": "svc@example.com", "name": "Service"})
    uid = user["id"]
    api.ok("PUT", "/v1/users/{id}/roles/{role}", f"/v1/users/{uid}/roles/exporter", status=204)
    assert api.ok("GET", "/v1/users/{id}/roles", f"/v1/users/{uid}/roles")[0]["items"] == ["exporter"]
    api.fails(409, "conflict", "DELETE", "/v1/roles/{name}", "/v1/roles/exporter")  # still held
    api.fails(422, "validation", "PUT", "/v1/users/{id}/roles/{role}", f"/v1/users/{uid}/roles/nosuchrole")
    api.ok("DELETE", "/v1/users/{id}/roles/{role}", f"/v1/users/{uid}/roles/exporter", status=204)
    api.ok("DELETE", "/v1/roles/{name}", "/v1/roles/exporter", status=204)
    api.fails(404, "not_found", "GET", "/v1/users/{id}/roles", "/v1/users/999999999/roles")

    issued, headers = api.ok("POST", "/v1/users/{id}/api-keys", f"/v1/users/{uid}/api-keys", {"name": "ci"})
    assert issued["secret"].startswith(issued["prefix"]) and headers["cache-control"] == "no-store"
    status, _, _ = api.call("GET", "/v1/roles", "/v1/roles", None, {"Authorization": "Bearer " + issued["secret"]})
    assert status == 403, "the new key works, as a user without the admin role"
    keys, _ = api.ok("GET", "/v1/users/{id}/api-keys", f"/v1/users/{uid}/api-keys")
    assert [k["id"] for k in keys["items"]] == [issued["id"]] and "secret" not in keys["items"][0]
    one = f"/v1/api-keys/{issued['id']}"
    assert api.ok("GET", "/v1/api-keys/{id}", one)[0]["prefix"] == issued["prefix"]
    revoked, _ = api.ok("DELETE", "/v1/api-keys/{id}", one, status=200)
    assert revoked["revoked_at"] is not None
    api.fails(404, "not_found", "DELETE", "/v1/api-keys/{id}", "/v1/api-keys/999999999")
    trail, _ = api.ok("GET", "/v1/admin/audit", f"/v1/admin/audit?object_type=user&object_id={uid}")
    assert [e["action"] for e in trail["items"]] == ["created", "role_assigned", "role_revoked", "api_key_created",
                                                     "api_key_revoked"]
    # Role definitions belong to no record: their entries are on user 0, the role named in the change.
    config, _ = api.ok("GET", "/v1/admin/audit", "/v1/admin/audit?object_type=user&object_id=0")
    exporter = [e for e in config["items"] if "role.exporter" in e["changes"]]
    assert [e["action"] for e in exporter] == ["role_created", "role_updated", "role_deleted"]
    assert exporter[0]["changes"]["role.exporter"] == [None, {"description": "Exports deals", "grants": [grant]}]
    assert exporter[1]["changes"]["role.exporter"][1]["description"] == "Exports"
    assert exporter[2]["changes"]["role.exporter"][1] is None


def test_admin_routes_answer_as_documented(api, server):
    _, db, _ = server
    now = int(time.time() * 1e6)  # dead now: older ones are the relay's retention to delete
    with sqlite3.connect(db) as conn:  # two dead letters, written as the relay writes them
        for n, queue in ((1, "billing"), (2, "mail")):
            conn.execute(
                "INSERT INTO dead_letters (queue, event_id, event_sequence, event_type, aggregate_type, aggregate_id, "
                "aggregate_version, occurred_at, actor_id, payload, attempts, first_failed_at, last_failed_at, "
                "last_error, error_class, consumer, dead_at) VALUES (?, ?, ?, 'deal.won', 'deal', 1, 1, 1, 0, "
                "'{}', 5, ?, ?, 'billing says 503', 'transient', 'w/billing', ?)",
                (queue, f"openapi-e{n}", 900000 + n, now, now, now))
    audit, _ = api.ok("GET", "/v1/admin/audit", "/v1/admin/audit?limit=2")
    assert len(audit["items"]) == 2 and audit["next"]
    later, _ = api.ok("GET", "/v1/admin/audit", f"/v1/admin/audit?after={audit['next']}&object_type=tag&object_id=1")
    assert all(e["object_type"] == "tag" and e["object_id"] == 1 for e in later["items"])
    api.fails(422, "validation", "GET", "/v1/admin/audit", "/v1/admin/audit?colour=red")
    api.fails(422, "validation", "GET", "/v1/admin/audit", "/v1/admin/audit?from=soon")
    verified, _ = api.ok("GET", "/v1/admin/audit/verify")
    assert verified["intact"] and verified["entries"] > 0 and verified["first_bad"] is None
    base = "/v1/admin/dead-letters"
    page, _ = api.ok("GET", base, base + "?limit=1")
    assert len(page["items"]) == 1 and page["next"]
    api.ok("GET", base, base + "?before=" + page["next"] + "&queue=billing")
    api.fails(422, "validation", "GET", base, base + "?colour=red")
    stats, _ = api.ok("GET", base + "/stats")
    assert {s["queue"] for s in stats["items"]} >= {"billing", "mail"}
    letters = {d["queue"]: d["id"] for d in api.ok("GET", base)[0]["items"]}
    one = f"{base}/{letters['billing']}"
    assert api.ok("GET", base + "/{id}", one)[0]["last_error"] == "billing says 503"
    assert api.ok("POST", base + "/{id}/replay", one + "/replay", status=200)[0] == {"replayed": 1}
    assert api.ok("POST", base + "/replay", base + "/replay?queue=mail", status=200)[0] == {"replayed": 1, "refused": []}
    api.ok("DELETE", base + "/{id}", one, status=204)
    api.fails(404, "not_found", "DELETE", base + "/{id}", one)
    api.fails(404, "not_found", "GET", base + "/{id}", f"{base}/999999999")
    api.call("PUT", base + "/{id}", one)  # 405

    api.ok("GET", "/v1/admin/sagas")
    api.fails(404, "not_found", "GET", "/v1/admin/sagas/{id}", "/v1/admin/sagas/999999999")


def test_a_saga_instance_answers_as_documented(api, refs):
    # Winning a deal starts the deal_won saga in-process (no billing URL: billing is skipped
    # or fails, either way an instance exists to read back).
    deal, _ = api.ok("POST", "/v1/deals", body={"title": "Saga deal", "pipeline_id": refs["pipeline"],
                                                "stage_id": refs["stage"]})
    api.ok("PATCH", "/v1/deals/{id}", f"/v1/deals/{deal['id']}", {"status": "won"})
    deadline = time.monotonic() + 20
    counts = []
    while time.monotonic() < deadline and not counts:
        counts = api.ok("GET", "/v1/admin/sagas")[0]["items"]
        time.sleep(0.1)
    assert counts, "no saga instance appeared"
    found = None
    for candidate in range(1, 50):
        status, body, _ = api.call("GET", "/v1/admin/sagas/{id}", f"/v1/admin/sagas/{candidate}")
        if status == 200:
            found = body
            break
    assert found and found["saga"] in {"deal_won", "lead_conversion"}


def test_operations_routes_answer_as_documented(api):
    assert api.ok("GET", "/healthz")[0] == {"status": "ok"}
    assert api.ok("GET", "/readyz")[0] == {"status": "ok"}
    assert "banyan_http_requests_total" in api.ok("GET", "/metrics")[0]
    api.call("POST", "/healthz", body={})  # 405
    api.call("DELETE", "/openapi.json")  # 405


def test_only_the_public_operations_answer_without_valid_credentials(api):
    public = {("/healthz", "get"), ("/readyz", "get"), ("/openapi.json", "get")}
    for path, item in api.doc["paths"].items():
        concrete = path.replace("{id}", "1")
        for method, operation in ((m, op) for m, op in item.items() if m in METHODS):
            if (path, method) in public:
                assert operation.get("security") == [], path
                status, _, _ = api.call(method.upper(), path, concrete, headers={"Authorization": None})
                assert status == 200, f"{method} {path} without credentials: {status}"
                continue
            body = {} if method in ("post", "patch", "put") else None
            for credential in (None, "Bearer bnk_forged_" + "x" * 43, "Basic YWRtaW46YWRtaW4=", "Bearer " + "a" * 5000):
                status, parsed, headers = api.call(method.upper(), path, concrete, body, {"Authorization": credential})
                assert status == 401, f"{method} {path} with {str(credential)[:20]}: {status} {parsed}"
                assert headers["www-authenticate"].startswith("Bearer realm=\"banyan\""), headers


def test_search_and_list_options_answer_as_documented(api, refs):
    made, _ = api.ok("POST", "/v1/contacts", body={"first_name": "Searchable", "last_name": "Person"})
    hits, _ = api.ok("GET", "/v1/search", "/v1/search?q=searchable&types=contacts&limit=5")
    assert [h["id"] for h in hits["items"]] == [made["id"]]
    assert hits["items"][0]["path"] == f"/v1/contacts/{made['id']}"
    api.fails(422, "validation", "GET", "/v1/search", "/v1/search")
    api.fails(422, "validation", "GET", "/v1/search", "/v1/search?q=x&types=users")
    page, _ = api.ok("GET", "/v1/contacts", "/v1/contacts?count=true&limit=1&first_name[contains]=SEARCHABLE")
    assert page["total"] == 1 and len(page["items"]) == 1
    picked, _ = api.ok("GET", "/v1/contacts", "/v1/contacts?fields=last_name&last_name=Person")
    assert all(set(item) == {"id", "last_name"} for item in picked["items"])
    api.fails(422, "validation", "GET", "/v1/contacts", "/v1/contacts?fields=nope")
    feed, _ = api.ok("GET", "/v1/events", "/v1/events?limit=5&types=contact.*,deal.*")
    assert all(e["type"].startswith(("contact.", "deal.")) for e in feed["items"])
    rest, _ = api.ok("GET", "/v1/events", f"/v1/events?after={feed['next']}&limit=1000")
    assert int(rest["next"]) >= int(feed["next"])
    api.fails(422, "validation", "GET", "/v1/events", "/v1/events?types=*.created")


def test_every_documented_operation_answered_successfully(api):
    # Runs last (pytest keeps file order): every operation the document lists was called
    # above and answered 2xx as documented.
    documented = {(p, m) for p, item in api.doc["paths"].items() for m in item if m in METHODS}
    succeeded = {(p, m) for p, m, s in api.answered if 200 <= s < 300}
    assert documented - succeeded == set()
