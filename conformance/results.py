"""Tempest's results: read from a subunit stream, grouped by service and by cause.

Everything here but ``read_subunit`` is plain data in, plain data out, so the summary can be
tested without Tempest. The summary is sorted throughout (counts, then names) so that two runs
diff line by line.
"""

from __future__ import annotations

import ast
import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from conformance import skips

SERVICES = ("identity", "compute", "image", "network", "volume", "orchestration")

# tempest.lib.exceptions: the HTTP errors rest_client raises, by class name.
HTTP_ERRORS = {
    "BadRequest": 400, "Unauthorized": 401, "Forbidden": 403, "NotFound": 404,
    "NotAcceptable": 406, "Conflict": 409, "Gone": 410, "PreconditionFailed": 412,
    "RateLimitExceeded": 413, "OverLimit": 413, "InvalidContentType": 415,
    "UnprocessableEntity": 422, "ServerFault": 500, "NotImplemented": 501,
}
# Errors about a response that came back (a body failing Tempest's schema, an unexpected
# success code): the request that got it is the last one logged before the check.
RESPONSE_ERRORS = {
    "InvalidHTTPResponseBody", "InvalidHTTPResponseHeader", "InvalidHttpSuccessCode",
    "ResponseWithNonEmptyBody", "ResponseWithEntity", "UnexpectedContentType",
    "UnexpectedResponseCode",
}

# rest_client's INFO line for every request: "Request (Caller:test): 404 GET http://... 0.01s".
REQUEST_LINE = re.compile(
    r"Request \([^)]*\): (?P<status>\d{3}) (?P<method>[A-Z]+) (?P<url>\S+)")
UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
HEX_ID = re.compile(r"\b[0-9a-f]{16,64}\b", re.I)
REQUEST_ID = re.compile(r"req-\{id\}")
# Names Tempest generates: tempest-ServersTestJSON-1234567 and the like.
TEMPEST_NAME = re.compile(r"\btempest-[\w-]*?-\d{6,}\b")
NUMBER = re.compile(r"(?<![\w.])\d{3,}(?!\w|\.\d)")
ADDRESS = re.compile(r"\b0x[0-9a-f]{6,}\b")
CALLER = re.compile(r"^\(\w+:\w+\) ")
TEST_ATTRS = re.compile(r"\[[^\]]*\]$")
FIRST_LINE_LIMIT = 200


@dataclass(frozen=True)
class Outcome:
    test_id: str   # Tempest's id, with its [id-...,smoke] attributes (what --load-list takes)
    status: str    # "pass", "fail" or "skip"
    detail: str    # the cause of a failure, the reason for a skip, "" for a pass
    seconds: float = 0.0

    @property
    def service(self) -> str:
        return service_of(self.test_id)

    @property
    def name(self) -> str:
        return short_id(self.test_id)


def service_of(test_id: str) -> str:
    """The service of a test, or of the class a ``setUpClass (...)`` failure names."""
    if "heat_tempest_plugin.tests.api." in test_id:
        return "orchestration"   # heat-tempest-plugin's API tests (gabbi)
    match = re.search(r"tempest\.api\.(\w+)\.", test_id)
    return match.group(1) if match else "other"


def short_id(test_id: str) -> str:
    return TEST_ATTRS.sub("", test_id)


def normalise(text: str) -> str:
    """Ids, generated names and numbers replaced, so that one cause reads the same each time."""
    text = UUID.sub("{id}", text)
    text = HEX_ID.sub("{id}", text)
    text = REQUEST_ID.sub("req-{id}", text)
    text = TEMPEST_NAME.sub("tempest-{name}", text)
    text = ADDRESS.sub("0x{addr}", text)
    return NUMBER.sub("{n}", text)


def request_path(url: str) -> str:
    """The path of a logged request, ids replaced, the query reduced to its parameter names."""
    parts = urlsplit(url)
    path = normalise(parts.path)
    if parts.query:
        names = sorted({item.split("=", 1)[0] for item in parts.query.split("&") if item})
        path += "?" + "&".join(names)
    return path


def exception_of(traceback: str) -> tuple[str, str]:
    """The class (without its module) and the message's first line of the last exception."""
    lines = traceback.rstrip().splitlines()
    start = 0
    for index, line in enumerate(lines):
        if line.startswith("Traceback (most recent call last):"):
            start = index + 1
    for line in lines[start:]:
        if line and not line[0].isspace():
            name, _, message = line.partition(":")
            if " " in name.strip():   # not "module.Class: message": a bare message line
                return "", line.strip()
            return name.strip().rsplit(".", 1)[-1], message.strip()
    return "", (lines[-1].strip() if lines else "")


def details_line(traceback: str) -> str:
    """The first ``Details:`` line of the last exception (tempest.lib puts the body there)."""
    for line in reversed(traceback.splitlines()):
        if line.startswith("Details:"):
            return line[len("Details:"):].strip()
    return ""


def error_message(details: str) -> str:
    """The service's own message in a ``Details:`` line (a Python repr of the parsed body)."""
    try:
        body: Any = ast.literal_eval(details)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return details
    while isinstance(body, dict):
        if isinstance(body.get("message"), str):
            return str(body["message"])
        nested = [value for value in body.values() if isinstance(value, dict)]
        if not nested:
            break
        body = nested[0]
    return body if isinstance(body, str) else details


def _requests(log: str) -> list[tuple[int, str, str]]:
    return [(int(m["status"]), m["method"], m["url"]) for m in REQUEST_LINE.finditer(log)]


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= FIRST_LINE_LIMIT else text[:FIRST_LINE_LIMIT - 1] + "…"


def failure_cause(traceback: str, log: str = "") -> str:
    """One line naming why a test failed, the same for every test that failed the same way.

    An HTTP error names its status, method and path ("501 Not Implemented GET
    /compute/v2.1/os-aggregates"), from the last logged request that got that status, and
    the service's message; a bad
    response names the check, what it found and the request; anything else its exception
    and the first line of its message.
    """
    name, message = exception_of(traceback)
    requests = _requests(log)
    status = HTTP_ERRORS.get(name)
    if status is not None:
        said = normalise(error_message(details_line(traceback)).strip())
        said = f": {said}" if said else ""
        for got, method, url in reversed(requests):
            if got == status:
                # stacklab's usual 501 message only repeats the method and path; a server
                # action's names the action, which the path does not.
                repeats = status == 501 and said.startswith(": stacklab does not implement ")
                tail = "" if repeats else said
                return _clip(f"{_status_text(got)} {method} {request_path(url)}{tail}")
        return _clip(f"{_status_text(status)} ({name}){said}")
    if name in RESPONSE_ERRORS and requests:
        got, method, url = requests[-1]
        detail = details_line(traceback) or message
        return _clip(f"{name} {got} {method} {request_path(url)}: {normalise(detail)}")
    text = f"{name}: {message}" if name else message
    # Tempest's waiters start with "(Class:test)": the same timeout in two tests is one cause.
    detail = CALLER.sub("", details_line(traceback))
    if detail and detail != message:   # a waiter's timeout says what it waited for there
        text += f" ({detail})"
    return _clip(normalise(text)) or "failed with no traceback"


# The subunit stream ---------------------------------------------------------------------

def _text(details: Mapping[str, Any], key: str) -> str:
    content = details.get(key)
    if content is None:
        return ""
    # Chunks come as bytes or memoryviews, depending on how the stream was read.
    return b"".join(bytes(chunk) for chunk in content.iter_bytes()).decode("utf-8", "replace")


def from_record(record: Mapping[str, Any]) -> Outcome | None:
    """One test of testtools' StreamToDict, or None for what is not a test (worker noise)."""
    test_id = str(record["id"])
    status = str(record["status"])
    details: Mapping[str, Any] = record.get("details") or {}
    start, end = record.get("timestamps") or (None, None)
    seconds = (end - start).total_seconds() if start is not None and end is not None else 0.0
    if status in ("success", "xfail"):
        return Outcome(test_id, "pass", "", seconds)
    if status == "skip":
        reason = _text(details, "reason").strip() or "no reason given"
        return Outcome(test_id, "skip", _clip(reason), seconds)
    if status in ("fail", "uxsuccess"):
        log = _text(details, "pythonlogging:''")
        return Outcome(test_id, "fail", failure_cause(_text(details, "traceback"), log),
                          seconds)
    if status in ("inprogress", "exists", "unknown"):
        if "tempest." not in test_id:
            return None
        return Outcome(test_id, "fail", "did not finish (the worker died or hung)", seconds)
    return Outcome(test_id, "fail", f"subunit status {status}", seconds)


def read_subunit(data: bytes) -> list[Outcome]:
    """Every test of a subunit v2 stream (``stestr last --subunit``), sorted by id.

    Needs python-subunit and testtools, which come with Tempest: this runs in its venv.
    """
    import subunit  # type: ignore[import-not-found,unused-ignore]
    import testtools  # type: ignore[import-not-found,unused-ignore]

    records: list[Mapping[str, Any]] = []
    stream = subunit.ByteStreamToStreamResult(io.BytesIO(data), non_subunit_name="stdout")
    result = testtools.StreamToDict(records.append)
    result.startTestRun()
    try:
        stream.run(result)
    finally:
        result.stopTestRun()
    tests = [test for record in records if (test := from_record(record)) is not None]
    return sorted(tests, key=lambda test: test.test_id)


# The summary ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    counts: dict[str, Counter[str]]        # service -> {"pass": n, "fail": n, "skip": n}
    causes: list[tuple[str, int, list[str]]]     # cause, count, tests; most frequent first
    skips: list[tuple[str, str, int, list[str]]]  # service, reason, count, tests

    @property
    def total(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for counts in self.counts.values():
            total.update(counts)
        return total


def summarise(results: Iterable[Outcome]) -> Summary:
    counts: dict[str, Counter[str]] = {}
    by_cause: dict[str, list[str]] = {}
    by_skip: dict[tuple[str, str], list[str]] = {}
    for result in results:
        counts.setdefault(result.service, Counter())[result.status] += 1
        if result.status == "fail":
            by_cause.setdefault(result.detail, []).append(result.name)
        elif result.status == "skip":
            by_skip.setdefault((result.service, result.detail), []).append(result.name)
    causes = sorted(((cause, len(tests), sorted(tests)) for cause, tests in by_cause.items()),
                    key=lambda item: (-item[1], item[0]))
    skips = sorted(((service, reason, len(tests), sorted(tests))
                    for (service, reason), tests in by_skip.items()),
                   key=lambda item: (item[0], -item[2], item[1]))
    return Summary(dict(sorted(counts.items())), causes, skips)


def kind_of(cause: str) -> str:
    """An HTTP status ("501 Not Implemented") or an exception's name ("TimeoutException")."""
    match = re.match(r"(\d{3} [A-Za-z' -]+?)(?: [A-Z]+ /| \(|:|$)", cause)
    if match:
        return match.group(1)
    return re.split(r"[:( ]", cause, maxsplit=1)[0] or cause


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(summary: Summary, meta: Mapping[str, str], *,
                    tests_per_cause: int = 3) -> str:
    """The summary as Markdown: counts per service, failures by cause, skips with reasons."""
    lines = ["# Tempest against stacklab", ""]
    lines += [f"- {key}: {value}" for key, value in meta.items()]
    total = summary.total
    lines += ["", "## Results by service", "",
              "| service | tests | passed | failed | skipped |", "|---|---:|---:|---:|---:|"]
    for service, counts in summary.counts.items():
        lines.append(f"| {service} | {sum(counts.values())} | {counts['pass']} | "
                     f"{counts['fail']} | {counts['skip']} |")
    lines.append(f"| **all** | {sum(total.values())} | {total['pass']} | {total['fail']} | "
                 f"{total['skip']} |")
    kinds: Counter[str] = Counter()
    for cause, count, _ in summary.causes:
        kinds[kind_of(cause)] += count
    lines += ["", "## Failures by kind", "", "| tests | kind |", "|---:|---|"]
    lines += [f"| {count} | {_cell(kind)} |"
              for kind, count in sorted(kinds.items(), key=lambda item: (-item[1], item[0]))]
    lines += ["", f"## Failures by cause ({total['fail']} tests, {len(summary.causes)} causes)",
              ""]
    if summary.causes:
        lines += ["| tests | cause | for example |", "|---:|---|---|"]
        for cause, count, tests in summary.causes:
            shown = ", ".join(f"`{test.removeprefix('tempest.api.')}`"
                              for test in tests[:tests_per_cause])
            more = f" (+{count - tests_per_cause})" if count > tests_per_cause else ""
            lines.append(f"| {count} | {_cell(cause)} | {shown}{more} |")
    else:
        lines.append("None.")
    verdicts: Counter[str] = Counter()
    rows = []
    for service, reason, count, _ in summary.skips:
        kind, note = skips.verdict(reason)
        verdicts[kind] += count
        rows.append(f"| {service} | {count} | {kind} | {_cell(reason)} | {_cell(note)} |")
    said = ", ".join(f"{count} {kind}" for kind, count in sorted(verdicts.items()))
    lines += ["", f"## Skips ({total['skip']} tests: {said or 'none'})", "",
              f"`{skips.GATE}`: upstream's gate skips it too, or it needs a real guest or "
              f"console; `{skips.OURS}`: a gap in stacklab (conformance/skips.py decides).", ""]
    if rows:
        lines += ["| service | tests | whose | reason | why |", "|---|---:|---|---|---|", *rows]
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def to_json(results: Sequence[Outcome], meta: Mapping[str, str]) -> dict[str, Any]:
    """Per-test results for the regression check, keyed by id (sorted, no timings)."""
    return {
        "meta": dict(meta),
        "tests": {result.test_id: {"status": result.status, "detail": result.detail}
                  for result in sorted(results, key=lambda r: r.test_id)},
    }


def regressions(expected: Iterable[str], results: Iterable[Outcome]) -> list[str]:
    """The expected tests that did not pass, each with what happened ("missing" if not run)."""
    got = {result.test_id: result for result in results}
    got_short = {result.name: result for result in got.values()}
    lost = []
    for test_id in expected:
        result = got.get(test_id) or got_short.get(short_id(test_id))
        if result is None:
            lost.append(f"{test_id}: did not run")
        elif result.status != "pass":
            lost.append(f"{test_id}: {result.status}: {result.detail}")
    return lost
