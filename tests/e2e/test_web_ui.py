"""The web UI in a real browser (Debian's chromium, driven by Playwright) against a real
``legato dev`` process and worker processes on a SQLite file.

A ``checkout`` state machine fails in its ``charge`` Task; its page draws ``Charge`` as
failed; ``legato dev`` is restarted (same port, same database) with the fixed step registered,
the Redrive button is clicked, and the page (open all along) shows the execution completed
with ``Charge`` succeeded. The list is filtered by status and by label. A screenshot of every
page is kept under ``test-output/screenshots/`` (or ``$LEGATO_TEST_OUTPUT/screenshots``).

Every wait is on a condition (Playwright's ``expect``, or the API's ``?wait=``); the
processes' logs are printed if the test fails.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import playwright.async_api as playwright_api  # a dev dependency: imported, never skipped
import pytest

from tests.api_process import LEGATO, serve_api
from tests.conftest import Waiter
from tests.processes import Processes

expect = playwright_api.expect

CHROMIUM = Path("/usr/bin/chromium")
REQUIRED = os.environ.get("LEGATO_REQUIRE_SERVICES") == "1"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("LEGATO_TEST_OUTPUT", ROOT / "test-output")) / "screenshots"
WAIT_MS = 30_000

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (as .ci/run does)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(reason=f"{message} (LEGATO_REQUIRE_SERVICES=1 makes this a failure)")
    async with playwright_api.async_playwright() as pw:
        found = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield found
        finally:
            await found.close()


async def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def dev(
    processes: Processes, wait_for: Waiter, app: str, db: str, port: int
) -> tuple[subprocess.Popen[bytes], str]:
    """``legato dev APP`` on the database and the port given (``gated`` opens on ``gate``)."""
    gate = Path(db.removeprefix("sqlite:///")).parent / "gate"
    env = {"LEGATO_DB": db, "LEGATO_HTTP": f"127.0.0.1:{port}", "UI_GATE": str(gate)}
    return await serve_api(processes, wait_for, ["dev", app], env=env, name="dev")


async def stopped(proc: subprocess.Popen[bytes], wait_for: Waiter) -> None:
    proc.terminate()

    async def exited() -> bool:
        return proc.poll() is not None

    await wait_for(exited)


async def settled(client: httpx.AsyncClient, execution_id: str, status: str) -> dict[str, Any]:
    """The execution once closed (the API long-polls); it must have ended ``status``."""
    for _ in range(6):
        found = (await client.get(f"/v1/executions/{execution_id}", params={"wait": 20})).json()
        if found["status"] not in ("PENDING", "RUNNING"):
            break
    assert found["status"] == status, found
    return dict(found)


async def test_a_failed_state_machine_is_seen_failed_and_redriven_from_the_ui(
    tmp_path: Path, processes: Processes, wait_for: Waiter, browser: Any
) -> None:
    db = f"sqlite:///{tmp_path / 'ui.db'}"
    port = free_port()
    broken, url = await dev(processes, wait_for, "ui_app:broken", db, port)
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        started = await client.post("/v1/executions", json={
            "workflow": "checkout", "id": "order-1", "input": {"order": "o-1", "amount": 30},
            "labels": {"team": "shop", "region": "eu"}})  # fmt: skip
        assert started.status_code == 201, started.text
        greeted = await client.post("/v1/executions", json={
            "workflow": "greeting", "id": "greet-ann", "args": ["ann"],
            "labels": {"team": "ops"}})  # fmt: skip
        assert greeted.status_code == 201, greeted.text
        waiting = await client.post("/v1/executions", json={
            "workflow": "approval", "id": "approve-7", "args": ["o-7"]})  # fmt: skip
        assert waiting.status_code == 201, waiting.text
        failed = await settled(client, "order-1", "FAILED")
        assert "payment gateway refused" in failed["error"]["message"]
        await settled(client, "greet-ann", "COMPLETED")

        page = await browser.new_page(viewport={"width": 1360, "height": 900})
        errors: list[Any] = []
        page.on("pageerror", lambda error: errors.append(error))  # one the page did not catch
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        await page.goto(url + "/")
        rows = page.locator("#executions tbody tr")
        await expect(page.locator('#executions tr[data-id="order-1"] .badge')).to_have_text(
            "failed", timeout=WAIT_MS
        )
        await shot(page, "executions")

        # filter by status: only the failed one is listed
        await page.select_option("select[name=status]", "FAILED")
        await expect(page).to_have_url(re.compile(r"status=FAILED"))
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_have_attribute("data-id", "order-1")
        await shot(page, "executions-failed")

        # filter by label (the status filter cleared): only the ops team's execution
        await page.click("text=Clear")
        await expect(rows).to_have_count(4, timeout=WAIT_MS)  # 3 started, 1 child
        await page.fill("input[name=label]", "team=ops")
        await page.click("form.filters button.primary")
        await expect(page).to_have_url(re.compile(r"label=team%3Dops"))
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_have_attribute("data-id", "greet-ann")
        await shot(page, "executions-label")

        # live: an execution started meanwhile shows up without a reload
        more = {"workflow": "greeting", "id": "greet-cy", "args": ["cy"], "labels": {"team": "ops"}}
        assert (await client.post("/v1/executions", json=more)).status_code == 201
        await expect(rows).to_have_count(2, timeout=WAIT_MS)
        await expect(rows.first).to_have_attribute("data-id", "greet-cy")  # newest first

        # by start time: none before 2000; every one so far in the last 15 minutes
        await page.goto(url + "/executions?since=custom&to=2000-01-01T00%3A00")
        await expect(page.locator(".empty")).to_have_text("No execution matches these filters.")
        await page.select_option("select[name=since]", "15m")
        await page.click("form.filters button.primary")
        await expect(rows).to_have_count(6, timeout=WAIT_MS)  # 4 started, 2 children

        # by workflow, through the link on a definition's row
        await page.goto(url + "/executions?workflow=checkout")
        await expect(rows).to_have_count(1, timeout=WAIT_MS)
        await expect(rows.first).to_have_attribute("data-id", "order-1")

        # the failed execution's page: Charge drawn failed, the error shown
        await page.goto(url + "/executions")
        await page.click('#executions a[href="/executions/order-1"]')
        await expect(page).to_have_url(url + "/executions/order-1")
        await expect(page).to_have_title("order-1 · Legato")
        charge = page.locator('#graph g.state[data-state="Charge"]')
        await expect(charge).to_have_class(re.compile(r"\bs-failed\b"), timeout=WAIT_MS)
        await expect(page.locator('#graph g.state[data-state="Price"]')).to_have_class(
            re.compile(r"\bs-succeeded\b")
        )
        await expect(page.locator('#graph g.state[data-state="Ship"]')).to_have_class(
            re.compile(r"\bs-not_reached\b")
        )
        await expect(page.locator("#error")).to_contain_text("payment gateway refused")
        await expect(page.locator("#history tr[data-type=ExecutionFailed]")).to_have_count(1)
        await shot(page, "execution-failed")

        # the fixed step is registered (legato dev restarted with it), the page redrives
        await stopped(broken, wait_for)
        await expect(page.locator("#live")).to_have_text("reconnecting…", timeout=WAIT_MS)
        _, again = await dev(processes, wait_for, "ui_app:fixed", db, port)
        assert again == url
        await expect(page.locator("#live")).to_have_text("live", timeout=WAIT_MS)
        await page.click("button[data-action=redrive]")
        await expect(page.locator(".page-head .badge")).to_have_text("completed", timeout=WAIT_MS)
        await expect(charge).to_have_class(re.compile(r"\bs-(succeeded|retried)\b"))
        await expect(page.locator('#graph g.state[data-state="Ship"]')).to_have_class(
            re.compile(r"\bs-succeeded\b")
        )
        await expect(page.locator("#history tr[data-type=ExecutionRedriven]")).to_have_count(1)
        await expect(page.locator("button[data-action=redrive]")).to_be_disabled()
        await shot(page, "execution-redriven")
        await charge.click()  # the history of that state only
        await expect(page.locator('#history tr[data-state="Ship"]').first).to_be_hidden()
        await expect(page.locator("#history tr[data-type=StepFailed]")).to_be_visible()
        await shot(page, "execution-state-history")
        await page.click(".only-bar button")
        await expect(page.locator('#history tr[data-state="Ship"]').first).to_be_visible()
        assert (await client.get("/v1/executions/order-1")).json()["output"]["charged"] == {
            "order": "o-1", "paid": 30}  # fmt: skip

        # a running state machine's graph follows it: Hold running, then (the gate open) done
        gated = {"workflow": "gated", "id": "gated-1", "input": {"n": 1}}
        assert (await client.post("/v1/executions", json=gated)).status_code == 201
        await page.goto(url + "/executions/gated-1")
        hold = page.locator('#graph g.state[data-state="Hold"]')
        await expect(hold).to_have_class(re.compile(r"\bs-running\b"), timeout=WAIT_MS)
        await expect(page.locator('#graph g.state[data-state="Done"]')).to_have_class(
            re.compile(r"\bs-not_reached\b")
        )
        await shot(page, "execution-running")
        (tmp_path / "gate").touch()
        await expect(hold).to_have_class(re.compile(r"\bs-succeeded\b"), timeout=WAIT_MS)
        await expect(page.locator(".page-head .badge")).to_have_text("completed")

        # a code workflow: its timeline of a step, a timer and a child
        await page.goto(url + "/executions/greet-ann")
        await expect(page.locator("svg.timeline g.span")).to_have_count(3, timeout=WAIT_MS)
        await expect(page.locator('svg.timeline g.k-step[data-name="shout"]')).to_have_class(
            re.compile(r"\bs-succeeded\b")
        )
        await page.locator("#history details[data-seq]").first.click()
        await shot(page, "execution-code")
        await page.click("svg.timeline a")  # its child, whose id has a slash
        await expect(page).to_have_url(url + "/executions/greet-ann%2F3")
        await expect(page.locator(".page-head h1")).to_have_text("greet-ann/3")
        await expect(page.locator(".page-head .badge")).to_have_text("completed")
        await expect(page.locator('dl.facts a[href="/executions/greet-ann"]')).to_be_visible()

        # a signal sent from the page ends the waiting one
        await page.goto(url + "/executions/approve-7")
        await page.click("button[data-action=signal]")
        await page.fill("dialog input[name=name]", "decision")
        await page.fill("dialog textarea[name=payload]", '{"approved": true}')
        await shot(page, "execution-signal")
        await page.click("dialog button[type=submit]")
        await expect(page.locator(".page-head .badge")).to_have_text("completed", timeout=WAIT_MS)
        await expect(page.locator("#history tr[data-type=SignalReceived]")).to_have_count(1)

        # cancelled from its page: its code sees Cancelled; a cancelled one may be redriven
        pending = {"workflow": "approval", "id": "approve-9", "args": ["o-9"]}
        assert (await client.post("/v1/executions", json=pending)).status_code == 201
        await page.goto(url + "/executions/approve-9")
        await page.click("button[data-action=cancel]")
        await page.click("dialog button[type=submit]")
        await expect(page.locator(".page-head .badge")).to_have_text("cancelled", timeout=WAIT_MS)
        await expect(page.locator("button[data-action=redrive]")).to_be_enabled()

        # terminated from its page, with a reason
        stuck = {"workflow": "approval", "id": "approve-8", "args": ["o-8"]}
        assert (await client.post("/v1/executions", json=stuck)).status_code == 201
        await page.goto(url + "/executions/approve-8")
        await page.click("button[data-action=terminate]")
        await page.fill("dialog input[name=reason]", "order withdrawn")
        await page.click("dialog button[type=submit]")
        await expect(page.locator(".page-head .badge")).to_have_text("terminated", timeout=WAIT_MS)
        await expect(page.locator(".flash.ok")).to_have_text("Terminated.")
        await expect(page.locator("button[data-action=signal]")).to_be_disabled()
        assert (await client.get("/v1/executions/approve-8")).json()["reason"] == "order withdrawn"

        await page.goto(url + "/definitions")
        await expect(page.locator('#definitions a[href="/definitions/checkout"]')).to_be_visible()
        await shot(page, "definitions")
        await page.click('#definitions a[href="/definitions/checkout"]')
        await expect(page.locator('#graph g.state[data-state="Charge"]')).to_be_visible()
        await expect(page.locator("#versions tbody tr")).to_have_count(1)
        await shot(page, "definition")
        async with page.expect_download() as downloading:
            await page.click("button[data-format=mermaid]")
        saved = tmp_path / "checkout.mmd"
        await (await downloading.value).save_as(saved)
        assert "Charge" in saved.read_text()

        # schedules with their next fire times
        made = await client.post("/v1/schedules", json={
            "name": "nightly-greeting", "workflow": "greeting", "cron": "0 3 * * *",
            "timezone": "Europe/Paris", "args": ["night"]})  # fmt: skip
        assert made.status_code == 201, made.text
        await page.goto(url + "/schedules")
        await expect(page.locator("#schedules tbody tr")).to_have_count(1, timeout=WAIT_MS)
        await expect(page.locator("#schedules .next li")).to_have_count(4)
        await shot(page, "schedules")
        await page.click("#schedules button[data-action=pause]")
        await expect(page.locator("#schedules .badge")).to_have_text("paused")
        await page.click("#schedules button[data-action=resume]")
        await expect(page.locator("#schedules .next li")).to_have_count(4)
        await page.click("#schedules button[data-action=trigger]")
        await page.click(".flash.ok a")  # the run it started
        await expect(page.locator(".page-head .badge")).to_have_text("completed", timeout=WAIT_MS)

        # a dead letter (the subscription's filter fails), redriven once the filter is fixed
        signup = {"specversion": "1.0", "id": "u-1", "source": "signup",
                  "type": "user.signed_up", "data": {"name": "bo"}}  # fmt: skip
        sub = {"name": "signups", "event_type": "user.signed_up", "workflow": "greeting"}
        made = await client.post("/v1/subscriptions", json={**sub, "filter": "data.name + 'x'"})
        assert made.status_code == 201, made.text
        assert (await client.post("/v1/events", json=signup)).status_code == 202
        await page.goto(url + "/dead-letters")
        letter = page.locator("#dead-letters tbody tr")
        await expect(letter).to_have_count(1, timeout=WAIT_MS)
        await expect(letter).to_contain_text("filter")
        await shot(page, "dead-letters")
        assert (await client.delete("/v1/subscriptions/signups")).status_code == 204
        fixed = {**sub, "filter": "data.name = 'bo'", "transform": "data.name"}
        assert (await client.post("/v1/subscriptions", json=fixed)).status_code == 201
        await letter.locator("button[data-action=redrive]").click()
        await expect(page.locator(".flash.ok")).to_contain_text("redriven", timeout=WAIT_MS)
        started = letter.locator(".redriven a")
        await expect(started).to_have_count(1)
        await started.click()
        await expect(page.locator(".page-head .badge")).to_have_text("completed", timeout=WAIT_MS)
        await expect(page.locator("#picture")).to_contain_text("shout")

        # queues, and the live replica and workers
        await page.goto(url + "/queues")
        await expect(page.locator('#queues tr[data-queue="default"]')).to_be_visible(
            timeout=WAIT_MS
        )
        await shot(page, "queues")
        await page.goto(url + "/cluster")
        await expect(page.locator("#replicas tbody tr")).to_have_count(1, timeout=WAIT_MS)
        await expect(page.locator("#workers tbody tr").first).to_contain_text("shout")
        await shot(page, "cluster")
        await expect(page.locator(".error-box")).to_have_count(0)

        # cursor paging: 52 executions are a page of 50 and an older page of 2
        for i in range(52):
            start = {"workflow": "wrap", "id": f"batch-{i:02}", "args": [str(i)],
                     "labels": {"batch": "b"}}  # fmt: skip
            assert (await client.post("/v1/executions", json=start)).status_code == 201
        await page.goto(url + "/executions?label=batch%3Db")
        await expect(rows).to_have_count(50, timeout=WAIT_MS)
        await page.click("text=Older →")
        await expect(page).to_have_url(re.compile(r"cursor="))
        await expect(rows).to_have_count(2)
        await expect(rows.first).to_have_attribute("data-id", "batch-01")
        await page.click("text=← Newest")
        await expect(rows).to_have_count(50)
        await page.close()
        assert not errors, errors
        refused = [m for m in console if "Security Policy" in m]  # blocked by the page's CSP
        assert not refused, refused


async def test_a_server_that_requires_keys_asks_for_one(
    tmp_path: Path, processes: Processes, wait_for: Waiter, browser: Any
) -> None:
    db = f"sqlite:///{tmp_path / 'keys.db'}"
    env = {"LEGATO_DB": db}
    _, url = await serve_api(processes, wait_for, ["dev", "ui_app:fixed", "--require-keys"],
                             env=env, name="dev")  # fmt: skip
    made = subprocess.run([*LEGATO, "keys", "create", "--db", db], capture_output=True,
                          text=True, check=True)  # fmt: skip
    key = made.stdout.strip()
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        start = {"workflow": "greeting", "id": "g-1", "args": ["cy"]}
        bearer = {"Authorization": f"Bearer {key}"}
        answers: list[httpx.Response] = []

        async def accepted() -> bool:  # the server reads a new key within a second
            answers.append(await client.post("/v1/executions", headers=bearer, json=start))
            return answers[-1].status_code != 401

        await wait_for(accepted)
        assert answers[-1].status_code == 201, answers[-1].text
    page = await browser.new_page(viewport={"width": 1360, "height": 900})
    await page.goto(url + "/executions")
    await expect(page.locator("input[name=key]")).to_be_visible(timeout=WAIT_MS)
    await shot(page, "api-key")
    await page.fill("input[name=key]", "lgk_00000000_wrong")
    await page.click("text=Use this key")
    # refused: asked again, saying why (waiting for the refusal, not for the prompt that was
    # already there, so the right key is not typed into a page the refusal then redraws)
    await expect(page.get_by_text("the API key is not valid")).to_be_visible(timeout=WAIT_MS)
    await expect(page.locator("input[name=key]")).to_be_visible()
    await page.fill("input[name=key]", key)
    await page.click("text=Use this key")
    await expect(page.locator('#executions tr[data-id="g-1"]')).to_be_visible(timeout=WAIT_MS)
    await page.reload()  # kept in the browser
    await expect(page.locator('#executions tr[data-id="g-1"]')).to_be_visible(timeout=WAIT_MS)
    await page.close()
