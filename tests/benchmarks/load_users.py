"""The load benchmark's simulated users, a locustfile: run by `bench_load.py` as
`locust -f load_users.py --headless`, with FLEET_LOAD_CONFIG naming the JSON file that
bench_load wrote (signed-in tokens, each account's branch, terminals and pending visits).

Each request is named "class: endpoint" (class: list, detail, report, write or map) and every
sample is written to the config's `samples` file at the end, so that bench_load computes exact
percentiles per class. Not imported by the test suite: importing locust patches the standard
library for gevent.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser
from locust.env import Environment

with open(os.environ["FLEET_LOAD_CONFIG"], encoding="utf-8") as _config:
    CONFIG: dict[str, Any] = json.load(_config)
THINK = between(*CONFIG["think"])
DAY = CONFIG["plan_date"]
API = "/api/v1"
# name, milliseconds, bytes, failed (0/1), seconds since the first request ended
SAMPLES: list[tuple[str, float, int, int, float]] = []
_FIRST: list[float] = []
OUTCOMES = ("reached_promised", "reached_promised", "needs_training", "no_need", "not_found")


@events.request.add_listener
def _record(
    name: str, response_time: float, response_length: int, exception: Any, **_: Any
) -> None:
    now = time.monotonic()
    if not _FIRST:
        _FIRST.append(now)
    failed = int(exception is not None)
    SAMPLES.append((name, response_time, response_length, failed, now - _FIRST[0]))


@events.quitting.add_listener
def _write_samples(environment: Environment, **_: Any) -> None:
    with open(CONFIG["samples"], "w", encoding="utf-8") as out:
        json.dump(SAMPLES, out)


class _Signed(FastHttpUser):
    """A person signed in with one of the role's accounts (several people may share one,
    as colleagues on several devices do)."""

    abstract = True
    wait_time = THINK
    role = ""
    _accounts: Any = None

    def on_start(self) -> None:
        cls = type(self)
        if cls._accounts is None:
            cls._accounts = itertools.cycle(CONFIG["accounts"][cls.role])
        self.account: dict[str, Any] = next(cls._accounts)
        self.auth = {"Authorization": f"Bearer {self.account['token']}"}

    def get(self, kind: str, label: str, path: str, **params: Any) -> Any:
        with self.client.get(
            path,
            params=params or None,
            headers=self.auth,
            name=f"{kind}: {label}",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return None
            return response.json() if kind != "map" else None

    def terminal(self) -> int:
        return int(random.choice(self.account["terminals"]))


class FieldStaff(_Signed):
    """A field officer: today's visits and route, the units they visit, an outcome now and
    then (each visit once; the pending ones are shared out by bench_load)."""

    role = "field"
    weight = CONFIG["mix"]["field"]

    def on_start(self) -> None:
        super().on_start()
        self.my_visits()

    @task(4)
    def my_visits(self) -> None:
        visits = self.get("list", "visits/mine", f"{API}/visits/mine", date=DAY)
        self.visit_ids = [v["visit_id"] for v in visits or []]

    @task(1)
    def _route(self) -> None:
        self.get("list", "revisits (own route)", f"{API}/revisits",
                 branch_code=self.account["branch_code"], date=DAY)  # fmt: skip

    @task(3)
    def _terminal(self) -> None:
        self.get("detail", "terminals/{id}", f"{API}/terminals/{self.terminal()}")

    @task(1)
    def _terminal_scores(self) -> None:
        self.get("detail", "terminals/{id}/scores", f"{API}/terminals/{self.terminal()}/scores")

    @task(2)
    def _visit(self) -> None:
        if self.visit_ids:
            self.get("detail", "visits/{id}", f"{API}/visits/{random.choice(self.visit_ids)}")

    @task(1)
    def _outcome(self) -> None:
        pending = self.account["pending_visits"]
        if not pending:
            return
        visit_id = pending.pop()
        body = {"outcome": random.choice(OUTCOMES), "note": "load benchmark"}
        with self.client.post(
            f"{API}/visits/{visit_id}/outcome", json=body, headers=self.auth,
            name="write: visits/{id}/outcome", catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")


class BranchOps(_Signed):
    """Branch operations: KPIs, the recovery queue, terminal search with filters and paging,
    unit details."""

    role = "ops"
    weight = CONFIG["mix"]["ops"]

    @task(2)
    def _kpi(self) -> None:
        self.get("report", "kpi", f"{API}/kpi")

    @task(1)
    def _kpi_by_branch(self) -> None:
        self.get("report", "kpi by branch, 4 weeks", f"{API}/kpi", group_by="branch", weeks=4)

    @task(3)
    def _queue(self) -> None:
        page = self.get("list", "recovery/requests", f"{API}/recovery/requests",
                        offset=random.choice((0, 0, 0, 50)))  # fmt: skip
        if page and page["items"]:
            pick = random.choice(page["items"])["id"]
            self.get("detail", "recovery/requests/{id}", f"{API}/recovery/requests/{pick}")

    @task(4)
    def _search(self) -> None:
        filters: dict[str, Any] = {"offset": 50 * random.choice((0, 0, 1, 2, 5, 20))}
        filters |= random.choice(
            (
                {"state": "deployed"},
                {"state": "in_stock"},
                {"q": f"{random.randrange(100):02d}"},
                {"state": "deployed", "sort": "-state_since"},
                {"branch_id": self.account["branch_id"], "sort": "sn"},
            )
        )
        self.get("list", "terminals (search)", f"{API}/terminals", **filters)

    @task(2)
    def _scores(self) -> None:
        status = random.choice(("idle", "dormant", "never_used", "declining"))
        self.get("list", "scores (by status)", f"{API}/scores", status=status,
                 sort="-days_since_use", offset=50 * random.choice((0, 0, 1, 3)))  # fmt: skip

    @task(3)
    def _terminal(self) -> None:
        self.get("detail", "terminals/{id}", f"{API}/terminals/{self.terminal()}")

    @task(1)
    def _terminal_scores(self) -> None:
        self.get("detail", "terminals/{id}/scores", f"{API}/terminals/{self.terminal()}/scores")


class Marketing(_Signed):
    """Marketing: the market ranking, campaigns, a market's coverage."""

    role = "marketing"
    weight = CONFIG["mix"]["marketing"]

    @task(2)
    def _ranking(self) -> None:
        self.get("report", "markets/ranking", f"{API}/markets/ranking")

    @task(3)
    def _campaigns(self) -> None:
        campaigns = self.get("list", "campaigns", f"{API}/campaigns")
        if campaigns:
            pick = random.choice(campaigns)["id"]
            self.get("detail", "campaigns/{id}", f"{API}/campaigns/{pick}")

    @task(2)
    def _market(self) -> None:
        market = random.choice(self.account["markets"])
        self.get("report", "markets/{id}/coverage", f"{API}/markets/{market}/coverage")


class Admin(_Signed):
    """Admins: city-wide KPIs and terminal search."""

    role = "admin"
    weight = CONFIG["mix"]["admin"]

    @task(1)
    def _kpi(self) -> None:
        self.get("report", "kpi by branch, 4 weeks", f"{API}/kpi", group_by="branch", weeks=4)

    @task(3)
    def _search(self) -> None:
        self.get("list", "terminals (search)", f"{API}/terminals", state="deployed",
                 offset=50 * random.randrange(50))  # fmt: skip

    @task(3)
    def _terminal(self) -> None:
        self.get("detail", "terminals/{id}", f"{API}/terminals/{self.terminal()}")


class MapViewer(_Signed):
    """Someone looking at the coverage map of their branch: a heavy page, looked at longer."""

    role = "map"
    weight = CONFIG["mix"]["map"]
    wait_time = between(*CONFIG["map_think"])

    @task(1)
    def _coverage(self) -> None:
        self.get("map", "maps/coverage", "/maps/coverage", branch=self.account["branch_code"])
