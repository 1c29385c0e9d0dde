"""The Tempest summary: failure causes, counts by service, skips, the regression check."""

from __future__ import annotations

from conformance.results import (
    Outcome,
    error_message,
    exception_of,
    failure_cause,
    from_record,
    kind_of,
    regressions,
    render_markdown,
    service_of,
    summarise,
    to_json,
)

NOT_IMPLEMENTED = """\
Traceback (most recent call last):
  File "/x/tempest/api/compute/admin/test_aggregates.py", line 40, in test_list
    body = self.client.list_aggregates()['aggregates']
  File "/x/tempest/lib/common/rest_client.py", line 880, in _error_checker
    raise exceptions.NotImplemented(resp_body, resp=resp)
tempest.lib.exceptions.NotImplemented: Got NotImplemented error
Details: {'code': 501, 'message': 'stacklab does not implement GET /os-aggregates of the compute service'}
"""  # noqa: E501

LOG = """\
2026-12-03 11:00:00,001 1 INFO [tempest.lib.common.rest_client] Request (AggregatesTest:test_list): 200 POST http://127.0.0.1:4242/identity/v3/auth/tokens 0.010s
2026-12-03 11:00:00,002 1 INFO [tempest.lib.common.rest_client] Request (AggregatesTest:test_list): 404 GET http://127.0.0.1:4242/compute/v2.1/servers/6f1c3c1e-93a4-4b7e-9d1b-0a6f9e3f2c11 0.002s
2026-12-03 11:00:00,003 1 INFO [tempest.lib.common.rest_client] Request (AggregatesTest:test_list): 501 GET http://127.0.0.1:4242/compute/v2.1/os-aggregates 0.003s
"""  # noqa: E501


def test_an_http_error_is_named_by_status_method_and_path() -> None:
    # stacklab's 501 message only repeats the method and path.
    assert failure_cause(NOT_IMPLEMENTED, LOG) == \
        "501 Not Implemented GET /compute/v2.1/os-aggregates"


def test_ids_and_query_values_leave_the_path() -> None:
    traceback = NOT_IMPLEMENTED.replace("NotImplemented:", "NotFound:")
    log = LOG.replace("/servers/6f1c", "/servers/6f1c").replace(
        "404 GET http://127.0.0.1:4242/compute/v2.1/servers/6f1c3c1e-93a4-4b7e-9d1b-0a6f9e3f2c11",
        "404 GET http://127.0.0.1:4242/compute/v2.1/servers/6f1c3c1e-93a4-4b7e-9d1b-0a6f9e3f2c11"
        "/os-interface?limit=2&marker=abc")
    assert failure_cause(traceback, log) == (
        "404 Not Found GET /compute/v2.1/servers/{id}/os-interface?limit&marker: "
        "stacklab does not implement GET /os-aggregates of the compute service")


def test_an_http_error_with_no_logged_request_keeps_the_message() -> None:
    assert failure_cause(NOT_IMPLEMENTED, "") == (
        "501 Not Implemented (NotImplemented): stacklab does not implement GET /os-aggregates "
        "of the compute service")


def test_a_501_keeps_a_message_that_says_more_than_the_path() -> None:
    traceback = NOT_IMPLEMENTED.replace(
        "'stacklab does not implement GET /os-aggregates of the compute service'",
        "'The server action restore is not implemented by stacklab yet.'")
    log = LOG.replace("501 GET http://127.0.0.1:4242/compute/v2.1/os-aggregates",
                      "501 POST http://127.0.0.1:4242/compute/v2.1/servers/6f1c3c1e-93a4-4b7e-"
                      "9d1b-0a6f9e3f2c11/action")
    assert failure_cause(traceback, log) == ("501 Not Implemented POST /compute/v2.1/servers/{id}"
                                             "/action: The server action restore is not "
                                             "implemented by stacklab yet.")


def test_the_message_is_found_in_each_service_s_error_body() -> None:
    neutron = "{'NeutronError': {'type': 'HTTPNotFound', 'message': 'Port 1 could not be found.'}}"
    assert error_message(neutron) == "Port 1 could not be found."
    assert error_message("'404 Not Found: no such image'") == "404 Not Found: no such image"
    assert error_message("<html>oops") == "<html>oops"


def test_a_bad_response_names_the_check_and_the_request() -> None:
    traceback = """\
Traceback (most recent call last):
  File "/x/tempest/lib/common/rest_client.py", line 300, in validate_response
    raise exceptions.InvalidHTTPResponseBody(msg)
tempest.lib.exceptions.InvalidHTTPResponseBody: HTTP response body is invalid json or xml
Details: HTTP response body is invalid ('hostId' is a required property)
"""
    log = LOG.replace("501 GET http://127.0.0.1:4242/compute/v2.1/os-aggregates",
                      "200 GET http://127.0.0.1:4242/compute/v2.1/servers/detail")
    assert failure_cause(traceback, log) == (
        "InvalidHTTPResponseBody 200 GET /compute/v2.1/servers/detail: "
        "HTTP response body is invalid ('hostId' is a required property)")


def test_an_assertion_is_named_by_its_last_exception() -> None:
    traceback = """\
Traceback (most recent call last):
  File "/x/a.py", line 1, in f
    raise KeyError('x')
KeyError: 'x'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/x/tempest/api/network/test_ports.py", line 90, in test_port
    self.assertEqual(1234567, len(ports))
testtools.matchers._impl.MismatchError: 1234567 != 2
"""
    assert exception_of(traceback) == ("MismatchError", "1234567 != 2")
    assert failure_cause(traceback, LOG) == "MismatchError: {n} != 2"
    other = traceback.replace("1234567 != 2", "<Client at 0x7f6552e15210> 1729113904.")
    assert failure_cause(other, LOG) == "MismatchError: <Client at 0x{addr}> {n}."


def test_a_timeout_says_what_it_waited_for() -> None:
    traceback = """\
Traceback (most recent call last):
  File "/x/tempest/common/waiters.py", line 136, in wait_for_server_status
    raise lib_exc.TimeoutException(message)
tempest.lib.exceptions.TimeoutException: Request timed out
Details: (ServerActionsTestJSON:test_resize_server_confirm) Server 6f1c3c1e-93a4-4b7e-9d1b-0a6f9e3f2c11 failed to reach VERIFY_RESIZE status and task state "None" within the required time (60 s). Current status: RESIZE. Current task state: resize_finish.
"""  # noqa: E501
    assert failure_cause(traceback, LOG) == (
        "TimeoutException: Request timed out (Server {id} failed to reach VERIFY_RESIZE status "
        "and task state \"None\" within the required time (60 s). Current status: RESIZE. "
        "Current task state: resize_finish.)")
    assert "ServerActionsTestJSON" not in failure_cause(traceback, LOG)


def test_services_come_from_the_test_or_its_class() -> None:
    assert service_of("tempest.api.network.test_ports.PortsTestJSON.test_x[id-1]") == "network"
    assert service_of("setUpClass (tempest.api.image.v2.test_images.ImagesTest)") == "image"
    assert service_of("tempest.scenario.test_x.T.test_y") == "other"
    # Orchestration's API tests are heat-tempest-plugin's.
    assert service_of("heat_tempest_plugin.tests.api.test_heat_api.stacks_x[id-1]") == (
        "orchestration")


def test_a_skip_keeps_its_reason_and_a_hung_test_fails() -> None:
    class Content:
        def __init__(self, text: str) -> None:
            self.text = text

        def iter_bytes(self) -> list[bytes]:
            return [self.text.encode()]

    skip = from_record({"id": "tempest.api.compute.T.test_a[id-1]", "status": "skip",
                        "details": {"reason": Content("Trust is disabled")}})
    assert skip == Outcome("tempest.api.compute.T.test_a[id-1]", "skip", "Trust is disabled")
    hung = from_record({"id": "tempest.api.compute.T.test_b", "status": "inprogress"})
    assert hung is not None and hung.status == "fail" and "did not finish" in hung.detail
    assert from_record({"id": "worker-0", "status": "exists"}) is None


RESULTS = [
    Outcome("tempest.api.compute.A.test_1[id-1,smoke]", "pass", ""),
    Outcome("tempest.api.compute.A.test_2[id-2]", "fail", "501 Not Implemented GET /x"),
    Outcome("tempest.api.network.B.test_3[id-3]", "fail", "501 Not Implemented GET /x"),
    Outcome("tempest.api.network.B.test_4[id-4]", "fail", "404 Not Found GET /y"),
    Outcome("tempest.api.identity.C.test_5[id-5]", "skip", "Trusts aren't enabled"),
    Outcome("tempest.api.identity.C.test_6[id-6]", "skip", "Trusts aren't enabled"),
]


def test_the_summary_counts_by_service_and_sorts_causes_by_frequency() -> None:
    summary = summarise(reversed(RESULTS))
    assert list(summary.counts) == ["compute", "identity", "network"]
    assert summary.counts["network"] == {"fail": 2}
    assert [(cause, count) for cause, count, _ in summary.causes] == [
        ("501 Not Implemented GET /x", 2), ("404 Not Found GET /y", 1)]
    assert summary.skips == [("identity", "Trusts aren't enabled", 2,
                              ["tempest.api.identity.C.test_5", "tempest.api.identity.C.test_6"])]
    text = render_markdown(summary, {"Tempest": "47.0.0"})
    assert "| compute | 2 | 1 | 1 | 0 |" in text
    assert "| **all** | 6 | 1 | 3 | 2 |" in text
    assert "| 2 | 501 Not Implemented GET /x | `compute.A.test_2`, `network.B.test_3` |" in text
    assert "| 1 | 404 Not Found GET /y | `network.B.test_4` |" in text
    # The same results in any order give the same text: runs diff line by line.
    assert render_markdown(summarise(RESULTS), {"Tempest": "47.0.0"}) == text
    assert "| 2 | 501 Not Implemented |\n| 1 | 404 Not Found |" in text
    assert "| identity | 2 | ours | Trusts aren't enabled | keystone's OS-TRUST |" in text
    assert "(2 tests: 2 ours)" in text
    assert list(to_json(RESULTS, {})["tests"]) == sorted(r.test_id for r in RESULTS)


def test_a_failure_s_kind_is_its_status_or_its_exception() -> None:
    assert kind_of("501 Not Implemented GET /compute/v2.1/os-hosts") == "501 Not Implemented"
    assert kind_of("400 Bad Request (BadRequest): Region x does not exist") == "400 Bad Request"
    assert kind_of("409 Conflict DELETE /networking/v2.0/subnets/{id}: in use") == "409 Conflict"
    assert kind_of("TimeoutException: Request timed out (Server {id} ...)") == "TimeoutException"
    assert kind_of("KeyError: 'x-compute-request-id'") == "KeyError"


def test_regressions_name_what_did_not_pass_or_did_not_run() -> None:
    expected = ["tempest.api.compute.A.test_1[id-1,smoke]", "tempest.api.compute.A.test_2",
                "tempest.api.image.D.test_9[id-9]"]
    assert regressions(expected, RESULTS) == [
        "tempest.api.compute.A.test_2: fail: 501 Not Implemented GET /x",
        "tempest.api.image.D.test_9[id-9]: did not run",
    ]
