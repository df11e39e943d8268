"""Issuance through a served portal: ``POST /api/v1/assessments/{id}/decide`` by the demo's signing officer,
one after another, each one sign + certificate PDF + log append + database in one transaction.

The recommended assessments (a seeded telecom operator's, each answering every applicable baseline control,
with its frozen revision and an approval by someone else) are written straight into the database, each with
its own scope so none supersedes another: a review per issue would take far longer than the issues measured.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from typing import Any

import httpx

from bench import servers
from bench.database import SIGNER, Database
from bench.figures import Figure, median, percentile
from bench.status_bench import _login


async def _recommended(database: Database, count: int) -> list[str]:
    from attestations.canonical import canonical_json
    from portal.clock import now
    from portal.db import close_engine, connect, open_engine
    from portal.db.tables import Assessment, Catalog, Organisation, Recommendation, Revision
    from portal.domain.assessments import repo as assessments_repo
    from portal.runtime import build_runtime
    from portal.settings import load_settings

    settings = load_settings(database.env)
    engine = connect(settings.database_url)
    await open_engine(engine)
    try:
        runtime = build_runtime(settings)
        organisation = (
            await Organisation.select()
            .where((Organisation.kind == "provider") & (Organisation.category == "telecom_operator"))
            .first()
        )
        catalog = await Catalog.select().where(Catalog.catalog_id == "ppa-baseline").first()
        assert organisation is not None and catalog is not None
        reviewer = uuid.uuid4()  # who recommended: never the signing officer (four-eyes)
        answers: list[dict[str, Any]] = []
        ids = []
        for number in range(count):
            aid, at = uuid.uuid4(), now()
            scope = {"summary": f"Bench scope {number}: mobile core {aid}", "services": ["Mobile"], "products": [],
                     "sites": ["Manama"]}  # fmt: skip
            await Assessment.insert(
                Assessment(id=aid, organisation=organisation["id"], catalog=catalog["id"], title=f"Bench {number}",
                           scope=scope, state="recommended", revision=1, version=1, created_by=reviewer,
                           created_at=at, updated_at=at, submitted_at=at)
            ).run()  # fmt: skip
            if not answers:
                record = await assessments_repo.get(aid)
                assert record is not None
                _, applicable = await runtime.assessments.applicable(record)
                answers = [{"control_id": c.id, "status": "implemented", "narrative": "In place."} for c in applicable]
            document = canonical_json(
                {"organisation": str(organisation["id"]), "catalog": {"id": catalog["catalog_id"],
                 "version": catalog["version"], "sha256": catalog["digest"]}, "scope": scope, "answers": answers}
            )  # fmt: skip
            await Revision.insert(
                Revision(id=uuid.uuid4(), key=f"{aid}:1", assessment=aid, number=1, document=document.decode(),
                         sha256=hashlib.sha256(document).hexdigest(), created_by=reviewer, created_at=at)
            ).run()  # fmt: skip
            await Recommendation.insert(
                Recommendation(id=uuid.uuid4(), key=f"{aid}:1", assessment=aid, revision=1, decision="approve",
                               rationale="Every control met.", level="full", recommended_by=reviewer, at=at)
            ).run()  # fmt: skip
            ids.append(str(aid))
        return ids
    finally:
        await close_engine(engine)


async def _issue(base: str, token: str, ids: list[str]) -> list[float]:
    seconds = []
    async with httpx.AsyncClient(
        base_url=base, headers={**servers.HOST, "authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        for aid in ids:
            start = time.perf_counter()
            response = await client.post(f"/api/v1/assessments/{aid}/decide", json={"decision": "issue"})
            seconds.append(time.perf_counter() - start)
            assert response.status_code == 201, response.text
    return seconds


def issuance(database: Database, *, count: int) -> list[Figure]:
    warm = 3
    ids = asyncio.run(_recommended(database, count + warm))
    with servers.portal(database.env) as portal:
        token = asyncio.run(_login(portal.base, database, SIGNER))
        seconds = asyncio.run(_issue(portal.base, token, ids))[warm:]
    ms = [s * 1000 for s in seconds]
    label = database.label
    return [
        Figure(f"issuance p50 over {len(ms)} issues, {label}", median(ms), "ms", 100, at_least=False),
        Figure(f"issuance p95 over {len(ms)} issues, {label}", percentile(ms, 95), "ms",
               detail=f"max {max(ms):.0f} ms"),
    ]  # fmt: skip
