"""A web process killed in the middle of a steady stream of reads through nginx: every request
that answered answered right (nginx resent the idempotent ones the dead process held to the
other), and the process comes back into the rotation."""

import threading
from collections import Counter

import requests

READERS = 4
READS_EACH = 150
KILL_AFTER = 120  # answers, all readers together


def resent_requests(ops) -> list[str]:
    """Access log lines whose upstream column names both processes: web1 failed, web2 answered."""
    log = (ops.cluster.LOGS / "nginx-freshchain.access.log").read_text()
    return [line for line in log.splitlines() if "127.0.0.1:8081, 127.0.0.1:8082" in line]


def test_killing_a_web_process_loses_no_answered_read(ops):
    buyer = ops.api("buyer")
    url = f"{ops.url}/api/listings/"
    expected = sorted(each["id"] for each in buyer.get(url, timeout=10).json()["results"])
    answers: list[tuple[int, list[int] | str]] = []
    lock = threading.Lock()
    enough = threading.Event()

    def read() -> None:
        session = requests.Session()
        session.headers.update(buyer.headers)
        for _ in range(READS_EACH):
            try:
                response = session.get(url, timeout=30)
                body = sorted(each["id"] for each in response.json()["results"])
                answer = (response.status_code, body)
            except (requests.RequestException, ValueError) as error:
                answer = (0, repr(error))
            with lock:
                answers.append(answer)
                if len(answers) >= KILL_AFTER:
                    enough.set()

    resent_before = len(resent_requests(ops))
    readers = [threading.Thread(target=read) for _ in range(READERS)]
    for reader in readers:
        reader.start()
    enough.wait(timeout=120)
    ops.kill("web1")
    for reader in readers:
        reader.join(timeout=300)

    statuses = Counter(status for status, _ in answers)
    wrong = [answer for answer in answers if answer != (200, expected)]
    ops.log(f"{len(answers)} reads through nginx with web1 killed after {KILL_AFTER}: {statuses}")
    resent = resent_requests(ops)[resent_before:]
    ops.log(f"nginx resent {len(resent)} of them from web1 to web2, e.g. {resent[:1]}")
    assert len(answers) == READERS * READS_EACH
    assert wrong == []
    assert resent

    ops.bring_back("web1")
    assert requests.get(f"{ops.web['web1']}/sign-in/", timeout=10).status_code == 200
    served_by = Counter(
        requests.get(url, headers=buyer.headers, timeout=10).status_code for _ in range(10)
    )
    assert served_by == {200: 10}
